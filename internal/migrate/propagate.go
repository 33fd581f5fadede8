package migrate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/copies"
)

// What the replicator and Reflector have in common: a source pushed to namespaces
// (a ClusterPropagation), a target that pulls a source (a Propagation), and the
// source's consent to pulls (courier.dev/share-with-*).

// push plans the ClusterPropagations that copy src into the namespaces of set, one
// per term of set, and returns them. conflictPolicy is Adopt: the copies the peer
// made already exist, identical to the source, and Courier takes them over
// instead of reporting each as a conflict; an unrelated object of the same name is
// left alone and reported.
func (b *builder) push(peer, annotation string, src *unstructured.Unstructured, set nsSet) []ObjectRef {
	srcRef := RefOf(src)
	refs := b.pushSources(peer, srcRef, annotation, dnsName(strings.ToLower(srcRef.Kind), srcRef.Namespace, srcRef.Name),
		fmt.Sprintf("%s/push/%s/%s", peer, srcRef.APIVersion, srcRef), []v1alpha1.SourceReference{sourceOf(srcRef)}, nil, set)
	b.refusedSource(srcRef, src, peer)
	return refs
}

// pushSources plans one ClusterPropagation of sources per term of set, named base
// (base-2, base-3 ... for the further terms), and files a finding on about (the
// object or policy converted, under annotation) when a namespace may be targeted
// twice.
func (b *builder) pushSources(peer string, about ObjectRef, annotation, base, identity string, sources []v1alpha1.SourceReference, template *v1alpha1.CopyTemplate, set nsSet) []ObjectRef {
	targets, overlap := set.targets()
	var refs []ObjectRef
	for i, t := range targets {
		nameBase := base
		if i > 0 {
			nameBase = dnsName(base, strconv.Itoa(i+1))
		}
		name := b.claimName(kindClusterPropagation, "", nameBase, fmt.Sprintf("%s/%d", identity, i))
		refs = append(refs, b.addClusterPropagation(name, v1alpha1.ClusterPropagationSpec{
			Sources:        slices.Clone(sources),
			Targets:        t,
			Template:       template.DeepCopy(),
			ConflictPolicy: v1alpha1.ConflictAdopt,
		}))
	}
	if overlap {
		b.find(about, peer, annotation, SeverityApproximate,
			"%s sent this to the namespaces matching any of several conditions, which takes %s to say; a namespace more than one of them targets gets its copy from one, and the other reports it as a conflict (a copy managed by another propagation is never taken over)",
			peerNames[peer], refNames(refs))
	}
	return refs
}

// refusedSource files a finding when Courier would refuse src as a source.
func (b *builder) refusedSource(ref ObjectRef, src *unstructured.Unstructured, peer string) {
	secretType, _, _ := unstructured.NestedString(src.Object, "type")
	if err := copies.Refuse(ref.APIVersion, ref.Kind, src.GetLabels(), secretType); err != nil {
		b.find(ref, peer, "", SeverityUnsupported, "Courier never propagates this object: %v; the planned propagation will report it (Ready=False)", err)
	}
}

// pullSpec is one target of a peer's pull: an object naming its source.
type pullSpec struct {
	peer       string
	target     *unstructured.Unstructured
	annotation string   // the annotation naming the source, "namespace/name"
	stateKeys  []string // the peer's bookkeeping annotations on the target
	// consent says whether the peer lets target's namespace pull src, and if not,
	// the severity and message of the finding.
	consent func(src *unstructured.Unstructured, namespace string) (ok bool, severity, message string)
	// behaviour finishes the sentence "<peer> ..." about what it did to the target
	// that Courier's copy does differently.
	behaviour string
}

// pull plans the Propagation that replaces a peer's pull into p.target.
func (b *builder) pull(p pullSpec) {
	tRef := RefOf(p.target)
	value := p.target.GetAnnotations()[p.annotation]
	srcNs, srcName, ok := strings.Cut(strings.TrimSpace(value), "/")
	srcNs, srcName = strings.TrimSpace(srcNs), strings.TrimSpace(srcName)
	if !ok || len(validation.IsDNS1123Label(srcNs)) > 0 || len(validation.IsDNS1123Subdomain(srcName)) > 0 {
		b.find(tRef, p.peer, p.annotation, SeverityApproximate,
			"%q is not <namespace>/<name>, so %s copied nothing into this object; nothing was converted and the annotation is kept", value, peerNames[p.peer])
		return
	}
	if srcNs == tRef.Namespace {
		b.find(tRef, p.peer, p.annotation, SeverityUnsupported,
			"the source %s is in this object's own namespace: %s copies within a namespace, Courier copies only across namespaces (a Propagation reports SameNamespace); nothing was converted and the annotation is kept",
			value, peerNames[p.peer])
		return
	}
	srcRef := ObjectRef{APIVersion: tRef.APIVersion, Kind: tRef.Kind, Namespace: srcNs, Name: srcName}
	spec := v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{sourceOf(srcRef)}, ConflictPolicy: v1alpha1.ConflictAdopt}
	if tRef.Name != srcName {
		spec.Template = &v1alpha1.CopyTemplate{Name: tRef.Name}
	}
	name := b.claimName(kindPropagation, tRef.Namespace, dnsName(strings.ToLower(srcRef.Kind), srcNs, srcName),
		fmt.Sprintf("%s/pull/%s/%s", p.peer, tRef.APIVersion, tRef))
	prop := b.addPropagation(tRef.Namespace, name, spec)

	c := b.change(tRef, p.peer)
	c.remove(p.annotation)
	for _, k := range p.stateKeys {
		if _, ok := p.target.GetAnnotations()[k]; ok {
			c.remove(k)
		}
	}

	src := b.byRef[srcRef]
	if src == nil {
		b.find(tRef, p.peer, p.annotation, SeverityApproximate,
			"the source %s is not in the input, so its consent is unknown: %s copies it only if it carries %s or %s matching namespace %s (Ready=False, reason NotShared, otherwise)",
			srcRef, refNames([]ObjectRef{prop}), v1alpha1.AnnotationShareWithNamespaces, v1alpha1.AnnotationShareWithNamespaceSelector, tRef.Namespace)
	} else {
		if ok, severity, msg := p.consent(src, tRef.Namespace); !ok {
			b.find(tRef, p.peer, p.annotation, severity, "%s", msg)
		}
		b.compareTarget(p, tRef, src, prop)
		b.refusedSource(srcRef, src, p.peer)
	}
	b.find(tRef, p.peer, p.annotation, SeverityApproximate,
		"%s %s; %s takes this object over (conflictPolicy Adopt) and makes it exactly the source's copy: its data, type, and the source's labels and annotations (tooling keys such as Helm's, Argo CD's and the peers' dropped), and labels and annotations set on this object itself are removed; when the source is deleted the copy is deleted (deletionPolicy Delete, or Orphan to keep it).%s",
		peerNames[p.peer], p.behaviour, refNames([]ObjectRef{prop}), extraKindNote(tRef.APIVersion, tRef.Kind))
	if managedBy := gitOpsOwner(p.target); managedBy != "" {
		b.find(tRef, p.peer, p.annotation, SeverityApproximate,
			"this object is also applied by %s; once Courier manages it, remove it from those manifests, or each apply fights Courier's copy (Courier backs off and reports it as Contested)", managedBy)
	}
}

// compareTarget files findings for the ways the target differs from the source in
// what adopting it will change: data keys the peer left in place, and a Secret type
// (immutable) that differs. Only key names are named, never values.
func (b *builder) compareTarget(p pullSpec, tRef ObjectRef, src *unstructured.Unstructured, prop ObjectRef) {
	var foreign []string
	for _, field := range []string{"data", "binaryData"} {
		tData, _, _ := unstructured.NestedMap(p.target.Object, field)
		sData, _, _ := unstructured.NestedMap(src.Object, field)
		for _, k := range slices.Sorted(maps.Keys(tData)) {
			if _, ok := sData[k]; !ok {
				foreign = append(foreign, k)
			}
		}
	}
	if len(foreign) > 0 {
		b.find(tRef, p.peer, p.annotation, SeverityApproximate,
			"this object holds keys the source does not (%s), which %s left in place; Courier's copy holds the source's keys only, so adopting it removes them", quoteList(sortedUnique(foreign)), peerNames[p.peer])
	}
	if tRef.Kind == "Secret" {
		tType, _, _ := unstructured.NestedString(p.target.Object, "type")
		sType, _, _ := unstructured.NestedString(src.Object, "type")
		if tType == "" {
			tType = "Opaque"
		}
		if sType == "" {
			sType = "Opaque"
		}
		if tType != sType {
			b.find(tRef, p.peer, p.annotation, SeverityUnsupported,
				"this Secret's type is %s and the source's %s; a Secret's type cannot change, so %s cannot adopt it: delete this Secret when applying the plan, and Courier creates the copy",
				tType, sType, refNames([]ObjectRef{prop}))
		}
	}
}

// gitOpsOwner names the tool that applies obj from manifests, from the marks those
// tools leave on it ("" when none).
func gitOpsOwner(obj *unstructured.Unstructured) string {
	ann, lbl := obj.GetAnnotations(), obj.GetLabels()
	switch {
	case ann["meta.helm.sh/release-name"] != "" || lbl["app.kubernetes.io/managed-by"] == "Helm":
		return "Helm"
	case hasPrefixKey(ann, "argocd.argoproj.io/") || lbl["argocd.argoproj.io/instance"] != "":
		return "Argo CD"
	case hasPrefixKey(lbl, "kustomize.toolkit.fluxcd.io/") || hasPrefixKey(lbl, "helm.toolkit.fluxcd.io/"):
		return "Flux"
	case ann["kubectl.kubernetes.io/last-applied-configuration"] != "":
		return "kubectl apply"
	}
	return ""
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// setConsent records, for the source ref, the namespaces (names or globs) and the
// selector (kubectl syntax) that may pull it, as Courier's consent annotations.
// Consent given by several peers for one source is merged when the plan is built.
func (b *builder) setConsent(ref ObjectRef, peer string, patterns []string, selector string) {
	c := b.change(ref, peer)
	if len(patterns) > 0 {
		c.setAnnotation(v1alpha1.AnnotationShareWithNamespaces, strings.Join(sortedUnique(patterns), ","))
	}
	if selector != "" {
		c.setAnnotation(v1alpha1.AnnotationShareWithNamespaceSelector, selector)
	}
}

// nonToolingKeys lists the keys of the label or annotation maps that Courier's
// copies carry (everything but tooling keys, copies.IsToolingKey), for findings
// about peers whose copies did not carry them.
func nonToolingKeys(ms ...map[string]string) []string {
	var keys []string
	for _, m := range ms {
		for k := range m {
			if !copies.IsToolingKey(k) {
				keys = append(keys, k)
			}
		}
	}
	return sortedUnique(keys)
}

// pushFinding is the finding every peer push gets: the peer pushed on the word of
// whoever could annotate the source; Courier pushes only through an object a
// cluster admin creates.
func (b *builder) pushFinding(ref ObjectRef, peer, annotation, how string, refs []ObjectRef) {
	b.find(ref, peer, annotation, SeverityUnsafe,
		"%s pushed this %s into other namespaces %s, on the word of anyone allowed to annotate it and without those namespaces' consent; Courier pushes only through a ClusterPropagation, cluster-scoped and created by a cluster admin (the admission policy checks its author's rights): a cluster admin must create %s, and the annotation is removed.%s",
		peerNames[peer], ref.Kind, how, refNames(refs), extraKindNote(ref.APIVersion, ref.Kind))
}
