package migrate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// The peers Convert knows, as they appear in Change.Peer and Finding.Peer.
const (
	// PeerReloader is stakater Reloader (reloader.stakater.com annotations).
	PeerReloader = "reloader"
	// PeerReplicator is mittwald kubernetes-replicator (replicator.v1.mittwald.de).
	PeerReplicator = "kubernetes-replicator"
	// PeerReflector is emberstack Reflector (reflector.v1.k8s.emberstack.com).
	PeerReflector = "reflector"
	// PeerKyverno is Kyverno's generate rules (kyverno.io ClusterPolicy and Policy).
	PeerKyverno = "kyverno"
)

// peerNames are the peers as their projects spell them, for messages.
var peerNames = map[string]string{
	PeerReloader:   "Reloader",
	PeerReplicator: "kubernetes-replicator",
	PeerReflector:  "Reflector",
	PeerKyverno:    "Kyverno",
}

// The severities of a Finding.
const (
	// SeverityUnsupported: Courier has no equivalent; the plan carries nothing (or
	// only the part it can express) over for this feature.
	SeverityUnsupported = "unsupported"
	// SeverityUnsafe: the peer's semantics were unsafe (data pushed or pulled
	// without the consent Courier requires); the plan produced the safe equivalent,
	// which may need someone else (a cluster admin, the source's owner) to act.
	SeverityUnsafe = "unsafe"
	// SeverityApproximate: the plan's equivalent differs from the peer's behaviour
	// in the way the message says.
	SeverityApproximate = "approximate"
)

// ObjectRef names one object of the input or of the plan.
type ObjectRef struct {
	// APIVersion is "v1" for core kinds, "group/version" otherwise.
	APIVersion string `json:"apiVersion"`
	// Kind is the object's kind.
	Kind string `json:"kind"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	// Name is the object's name.
	Name string `json:"name"`
}

// String renders the reference as "Kind namespace/name" (or "Kind name").
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Compare orders references by namespace, name, kind, then apiVersion, so that
// everything about one object sits together in a plan.
func (r ObjectRef) Compare(o ObjectRef) int {
	return cmp.Or(cmp.Compare(r.Namespace, o.Namespace), cmp.Compare(r.Name, o.Name),
		cmp.Compare(r.Kind, o.Kind), cmp.Compare(r.APIVersion, o.APIVersion))
}

// RefOf returns the ObjectRef of obj.
func RefOf(obj *unstructured.Unstructured) ObjectRef {
	return ObjectRef{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// Plan is what Convert produces: Courier objects to create, changes to existing
// objects, and findings. Every list is sorted, so the same input always yields the
// same plan.
type Plan struct {
	// Objects are the ClusterPropagations and Propagations to create, sorted by
	// kind (ClusterPropagation first), namespace and name.
	Objects []*unstructured.Unstructured `json:"objects"`
	// Changes are the label and annotation edits of existing objects (workloads,
	// sources, pull targets), one per object and peer, sorted by object then peer.
	Changes []Change `json:"changes"`
	// Findings are the peer features with no exact equivalent or with unsafe
	// semantics, sorted by object, peer and annotation.
	Findings []Finding `json:"findings"`
}

// Change is what the plan does to one existing object on behalf of one peer.
//
// RemoveAnnotations lists the peer's annotations on the object that the plan takes
// over or that no longer do anything, so that applying the plan drops them: left
// in place, the peer (while it still runs) and Courier would both act on the same
// change (two rollouts, or two writers fighting over one copy). A peer annotation
// whose behaviour the plan does not carry over at all is not listed, so the peer
// keeps doing it until someone decides; its Finding says so. Apply a Change in one
// write, and only together with the Objects it relies on.
type Change struct {
	// Object is the object to change.
	Object ObjectRef `json:"object"`
	// Peer is the tool whose annotations the change replaces.
	Peer string `json:"peer"`
	// SetLabels are labels to set (add or overwrite).
	SetLabels map[string]string `json:"setLabels,omitempty"`
	// SetAnnotations are annotations to set (add or overwrite) on the object's
	// metadata.
	SetAnnotations map[string]string `json:"setAnnotations,omitempty"`
	// RemoveAnnotations are peer annotations to remove from the object's metadata.
	RemoveAnnotations []string `json:"removeAnnotations,omitempty"`
	// RemoveTemplateAnnotations are peer annotations to remove from a workload's
	// pod template (Reloader also reads its annotations there). Removing one
	// changes the pod template, which rolls the workload's pods once; a caller may
	// leave them, since they do nothing once the peer is gone.
	RemoveTemplateAnnotations []string `json:"removeTemplateAnnotations,omitempty"`
}

// Finding is one peer annotation or feature that has no exact Courier equivalent
// or had unsafe semantics. Its message names objects, keys and namespaces only,
// never the data of a Secret or ConfigMap.
type Finding struct {
	// Object is the object carrying the annotation or feature.
	Object ObjectRef `json:"object"`
	// Peer is the tool the annotation or feature belongs to.
	Peer string `json:"peer"`
	// Annotation is the annotation key, or for a Kyverno policy the field path of
	// the rule ("spec.rules[name].generate.synchronize"); empty when the finding is
	// about the object as a whole (a source Courier never propagates).
	Annotation string `json:"annotation"`
	// Severity is SeverityUnsupported, SeverityUnsafe or SeverityApproximate.
	Severity string `json:"severity"`
	// Message says why, and what the plan produced instead.
	Message string `json:"message"`
}

// Convert builds the migration plan for objs: Namespaces, Secrets, ConfigMaps,
// workloads (Deployments, StatefulSets, DaemonSets, CronJobs, Jobs, Argo Rollouts,
// OpenShift DeploymentConfigs), and Kyverno ClusterPolicies and Policies, as read
// from a cluster or from manifests. Objects of other kinds are read only for the
// peers' annotations on them. The input is not modified.
//
// The error reports an input Convert cannot read unambiguously: a nil entry, an
// object without kind or name, or the same object twice.
func Convert(objs []*unstructured.Unstructured) (Plan, error) {
	b, err := newBuilder(objs)
	if err != nil {
		return Plan{}, err
	}
	b.reloader()
	b.replicator()
	b.reflector()
	b.kyverno()
	return b.plan(), nil
}

// changeKey identifies the one Change of an object per peer.
type changeKey struct {
	ref  ObjectRef
	peer string
}

// builder accumulates a plan. Every peer's conversion reads the index and adds to
// the three lists through its methods, which keep the output deterministic.
type builder struct {
	*index
	objects  []*unstructured.Unstructured
	names    map[string]string // "kind/namespace/name" of a planned object -> identity that took it
	changes  map[changeKey]*Change
	findings []Finding
}

func newBuilder(objs []*unstructured.Unstructured) (*builder, error) {
	idx, err := newIndex(objs)
	if err != nil {
		return nil, err
	}
	return &builder{index: idx, names: map[string]string{}, changes: map[changeKey]*Change{}}, nil
}

// change returns the Change of ref for peer, creating it on first use.
func (b *builder) change(ref ObjectRef, peer string) *Change {
	k := changeKey{ref, peer}
	c, ok := b.changes[k]
	if !ok {
		c = &Change{Object: ref, Peer: peer}
		b.changes[k] = c
	}
	return c
}

func (c *Change) setLabel(k, v string) {
	if c.SetLabels == nil {
		c.SetLabels = map[string]string{}
	}
	c.SetLabels[k] = v
}

func (c *Change) setAnnotation(k, v string) {
	if c.SetAnnotations == nil {
		c.SetAnnotations = map[string]string{}
	}
	c.SetAnnotations[k] = v
}

func (c *Change) remove(keys ...string) { c.RemoveAnnotations = append(c.RemoveAnnotations, keys...) }

func (c *Change) removeTemplate(keys ...string) {
	c.RemoveTemplateAnnotations = append(c.RemoveTemplateAnnotations, keys...)
}

// find records a Finding.
func (b *builder) find(ref ObjectRef, peer, annotation, severity, format string, args ...any) {
	b.findings = append(b.findings, Finding{Object: ref, Peer: peer, Annotation: annotation,
		Severity: severity, Message: fmt.Sprintf(format, args...)})
}

// plan sorts and de-duplicates what was accumulated.
func (b *builder) plan() Plan {
	b.mergeConsent()
	p := Plan{Objects: b.objects, Changes: []Change{}, Findings: []Finding{}}
	slices.SortFunc(p.Objects, func(x, y *unstructured.Unstructured) int {
		// ClusterPropagations first: an admin creates them, apart from the rest.
		return cmp.Or(cmp.Compare(x.GetKind(), y.GetKind()), RefOf(x).Compare(RefOf(y)))
	})
	if p.Objects == nil {
		p.Objects = []*unstructured.Unstructured{}
	}
	for _, c := range b.changes {
		c.RemoveAnnotations = sortedUnique(c.RemoveAnnotations)
		c.RemoveTemplateAnnotations = sortedUnique(c.RemoveTemplateAnnotations)
		if len(c.SetLabels) == 0 && len(c.SetAnnotations) == 0 && len(c.RemoveAnnotations) == 0 && len(c.RemoveTemplateAnnotations) == 0 {
			continue
		}
		p.Changes = append(p.Changes, *c)
	}
	slices.SortFunc(p.Changes, func(x, y Change) int {
		return cmp.Or(x.Object.Compare(y.Object), cmp.Compare(x.Peer, y.Peer))
	})
	slices.SortFunc(b.findings, func(x, y Finding) int {
		return cmp.Or(x.Object.Compare(y.Object), cmp.Compare(x.Peer, y.Peer), cmp.Compare(x.Annotation, y.Annotation),
			cmp.Compare(x.Severity, y.Severity), cmp.Compare(x.Message, y.Message))
	})
	p.Findings = append(p.Findings, slices.Compact(b.findings)...)
	return p
}

// mergeConsent makes the consent annotations of every Change of one object agree:
// when two peers (replicator and Reflector) both let namespaces pull the same
// source, Courier's single share-with-namespaces annotation lists the namespaces
// of both, and the object's existing Courier consent is kept, so applying the
// Changes in any order gives the same result.
func (b *builder) mergeConsent() {
	byRef := map[ObjectRef][]*Change{}
	for _, k := range slices.SortedFunc(maps.Keys(b.changes), func(x, y changeKey) int {
		return cmp.Or(x.ref.Compare(y.ref), cmp.Compare(x.peer, y.peer))
	}) {
		byRef[k.ref] = append(byRef[k.ref], b.changes[k])
	}
	for _, ref := range slices.SortedFunc(maps.Keys(byRef), ObjectRef.Compare) {
		changes := byRef[ref]
		var patterns []string
		selectors := map[string]bool{}
		for _, c := range changes {
			if v, ok := c.SetAnnotations[v1alpha1.AnnotationShareWithNamespaces]; ok {
				patterns = append(patterns, splitList(v)...)
			}
			if v, ok := c.SetAnnotations[v1alpha1.AnnotationShareWithNamespaceSelector]; ok {
				selectors[v] = true
			}
		}
		if len(patterns) == 0 && len(selectors) == 0 {
			continue
		}
		var existing map[string]string
		if o := b.byRef[ref]; o != nil {
			existing = o.GetAnnotations()
		}
		if len(patterns) > 0 {
			patterns = append(patterns, splitList(existing[v1alpha1.AnnotationShareWithNamespaces])...)
			merged := strings.Join(sortedUnique(patterns), ",")
			for _, c := range changes {
				if _, ok := c.SetAnnotations[v1alpha1.AnnotationShareWithNamespaces]; ok {
					c.setAnnotation(v1alpha1.AnnotationShareWithNamespaces, merged)
				}
			}
		}
		if old, ok := existing[v1alpha1.AnnotationShareWithNamespaceSelector]; ok && len(selectors) > 0 {
			selectors[old] = true
		}
		if len(selectors) > 1 {
			// One annotation holds one selector, and an OR of selectors is no selector.
			for _, c := range changes {
				delete(c.SetAnnotations, v1alpha1.AnnotationShareWithNamespaceSelector)
			}
			b.find(ref, changes[0].Peer, v1alpha1.AnnotationShareWithNamespaceSelector, SeverityUnsupported,
				"the consent of this object names %d different namespace selectors (%s) and Courier's %s holds one; the plan sets none of them, so a namespace matching only a selector cannot pull it: set the one you mean",
				len(selectors), strings.Join(slices.Sorted(maps.Keys(selectors)), "; "), v1alpha1.AnnotationShareWithNamespaceSelector)
		}
	}
}

// splitList splits a comma-separated annotation value, trimming blanks and
// dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// sortedUnique returns s sorted and without duplicates (nil for an empty s).
func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

// quoteList renders names for a message: "a, b, c".
func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
