package migrate

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	klabels "k8s.io/apimachinery/pkg/labels"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Reflector's annotations (its README and Mirroring/Core/Annotations.cs). Namespace
// lists are comma-separated regular expressions that must match a whole name; an
// empty or absent list allows every namespace. A list and its selector are ORed.
const (
	rfPrefix                 = "reflector.v1.k8s.emberstack.com/"
	rfAllowed                = rfPrefix + "reflection-allowed"
	rfAllowedNamespaces      = rfPrefix + "reflection-allowed-namespaces"
	rfAllowedNamespacesSel   = rfPrefix + "reflection-allowed-namespaces-selector"
	rfAutoEnabled            = rfPrefix + "reflection-auto-enabled"
	rfAutoNamespaces         = rfPrefix + "reflection-auto-namespaces"
	rfAutoNamespacesSelector = rfPrefix + "reflection-auto-namespaces-selector"
	rfReflects               = rfPrefix + "reflects"
	rfAutoReflects           = rfPrefix + "auto-reflects"
	rfReflectedVersion       = rfPrefix + "reflected-version"
	rfReflectedAt            = rfPrefix + "reflected-at"
)

var (
	rfConsentKeys = []string{rfAllowed, rfAllowedNamespaces, rfAllowedNamespacesSel}
	rfAutoKeys    = []string{rfAutoEnabled, rfAutoNamespaces, rfAutoNamespacesSelector}
	rfStateKeys   = []string{rfAutoReflects, rfReflectedVersion, rfReflectedAt}
)

// isTrue reads a boolean as .NET's bool.TryParse does (case-insensitive).
func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// reflector converts Reflector's annotations. An object with reflects is a mirror
// and nothing else (Reflector ignores source annotations on it); an automatic
// mirror (auto-reflects: "true") is a copy the source's ClusterPropagation adopts.
func (b *builder) reflector() {
	for _, o := range b.objs {
		ref := RefOf(o)
		ann := o.GetAnnotations()
		keys := prefixedKeys(ann, rfPrefix)
		if ref.Namespace == "" || len(keys) == 0 {
			continue
		}
		if _, mirror := ann[rfReflects]; mirror {
			if !isTrue(ann[rfAutoReflects]) {
				b.pull(pullSpec{
					peer: PeerReflector, target: o, annotation: rfReflects, stateKeys: rfStateKeys,
					consent:   b.reflectorAllows,
					behaviour: "copied only the source's data into this object, left its labels and annotations alone, and kept it with its last data when the source was deleted",
				})
			}
			for _, k := range keys {
				if k != rfReflects && !slices.Contains(rfStateKeys, k) {
					b.change(ref, PeerReflector).remove(k)
					b.find(ref, PeerReflector, k, SeverityApproximate, "Reflector ignores this annotation on a mirror; it is removed")
				}
			}
			continue
		}
		allowed := isTrue(ann[rfAllowed])
		if allowed {
			b.reflectorConsent(o, ref, ann)
		} else {
			b.change(ref, PeerReflector).remove(present(ann, rfConsentKeys)...)
		}
		b.reflectorAuto(o, ref, ann, allowed)
		for _, k := range keys {
			if !slices.Contains(rfConsentKeys, k) && !slices.Contains(rfAutoKeys, k) && !slices.Contains(rfStateKeys, k) {
				b.find(ref, PeerReflector, k, SeverityUnsupported,
					"Reflector's README does not document this key; nothing was converted and the annotation is kept")
			}
		}
	}
}

// reflectorConsent converts reflection-allowed-namespaces and its selector into
// Courier's consent. An empty list and no selector let every namespace mirror the
// source; Courier's consent names namespaces, so it is narrowed to the namespaces
// that mirror the source in the input, with a finding.
func (b *builder) reflectorConsent(o *unstructured.Unstructured, ref ObjectRef, ann map[string]string) {
	names, sel := strings.TrimSpace(ann[rfAllowedNamespaces]), strings.TrimSpace(ann[rfAllowedNamespacesSel])
	c := b.change(ref, PeerReflector)
	if names == "" && sel == "" {
		mirrors := b.reflectorMirrors(ref)
		if len(mirrors) == 0 {
			b.find(ref, PeerReflector, rfAllowedNamespaces, SeverityUnsafe,
				"Reflector let every namespace mirror this %s (%s is empty or absent), so anyone who could create an object in any namespace could read it; Courier's consent names namespaces, and no namespace mirrors it in the input, so no consent is set and the annotations are kept: add %s listing the namespaces that may pull it",
				ref.Kind, rfAllowedNamespaces, v1alpha1.AnnotationShareWithNamespaces)
			return
		}
		b.setConsent(ref, PeerReflector, mirrors, "")
		c.remove(present(ann, rfConsentKeys)...)
		b.find(ref, PeerReflector, rfAllowedNamespaces, SeverityUnsafe,
			"Reflector let every namespace mirror this %s (%s is empty or absent), so anyone who could create an object in any namespace could read it; Courier's consent is narrowed to the namespaces that mirror it in the input (%s): widen %s deliberately if others should pull it",
			ref.Kind, rfAllowedNamespaces, quoteList(mirrors), v1alpha1.AnnotationShareWithNamespaces)
		return
	}
	var globs []string
	if names != "" {
		globs, _ = b.convertPatterns(ref, PeerReflector, rfAllowedNamespaces, names, "allowed to pull it")
	}
	selector := ""
	if sel != "" {
		parsed, err := klabels.Parse(sel)
		if err != nil {
			b.find(ref, PeerReflector, rfAllowedNamespacesSel, SeverityApproximate,
				"not a label selector (%v): Reflector refuses every namespace by it; it is left out", err)
		} else {
			selector = parsed.String()
		}
	}
	if len(globs) == 0 && selector == "" {
		return // nothing could be carried over; reported above, annotations kept
	}
	b.setConsent(ref, PeerReflector, globs, selector)
	c.remove(present(ann, rfConsentKeys)...)
}

// reflectorMirrors lists the namespaces whose objects mirror src by hand (reflects
// without auto-reflects) in the input, sorted.
func (b *builder) reflectorMirrors(src ObjectRef) []string {
	var out []string
	for _, o := range b.objs {
		r := RefOf(o)
		ann := o.GetAnnotations()
		if r.Kind != src.Kind || r.APIVersion != src.APIVersion || isTrue(ann[rfAutoReflects]) {
			continue
		}
		if strings.TrimSpace(ann[rfReflects]) == src.Namespace+"/"+src.Name && r.Namespace != src.Namespace {
			out = append(out, r.Namespace)
		}
	}
	return sortedUnique(out)
}

// reflectorAuto converts reflection-auto-enabled: Reflector creates a mirror in
// every namespace that both the auto list (or selector) and the allowed list (or
// selector) match, an empty condition matching every namespace.
func (b *builder) reflectorAuto(o *unstructured.Unstructured, ref ObjectRef, ann map[string]string, allowed bool) {
	c := b.change(ref, PeerReflector)
	if !isTrue(ann[rfAutoEnabled]) {
		c.remove(present(ann, rfAutoKeys)...)
		return
	}
	if !allowed {
		c.remove(present(ann, rfAutoKeys)...)
		b.find(ref, PeerReflector, rfAutoEnabled, SeverityApproximate,
			"Reflector creates automatic mirrors only when %s is \"true\", so this created none; nothing is pushed and the annotations are removed", rfAllowed)
		return
	}
	auto := b.reflectorSet(ref, ann, rfAutoNamespaces, rfAutoNamespacesSelector)
	permitted := b.reflectorSet(ref, ann, rfAllowedNamespaces, rfAllowedNamespacesSel)
	set, exact := auto.intersect(permitted)
	if !exact {
		if b.namespaces != nil {
			var names []string
			for _, ns := range b.namespaceNames() {
				lbl := b.namespaces[ns]
				if ns != ref.Namespace && reflectorMatch(ann[rfAutoNamespaces], ann[rfAutoNamespacesSelector], ns, lbl) &&
					reflectorMatch(ann[rfAllowedNamespaces], ann[rfAllowedNamespacesSel], ns, lbl) {
					names = append(names, ns)
				}
			}
			set = globSet(names)
			b.find(ref, PeerReflector, rfAutoNamespaces, SeverityApproximate,
				"the namespaces both %s and %s allow cannot be written as Courier targets exactly, so they were expanded to the %d namespaces of the input that both match now (%s): a namespace created later is not targeted",
				rfAutoNamespaces, rfAllowedNamespaces, len(names), quoteList(names))
		} else {
			b.find(ref, PeerReflector, rfAutoNamespaces, SeverityApproximate,
				"the namespaces both %s and %s allow cannot be written as Courier targets exactly, and the input holds no Namespaces to expand them; the targets hold only the namespaces both lists provably share, so some namespace Reflector mirrored into may get no copy",
				rfAutoNamespaces, rfAllowedNamespaces)
		}
	}
	if set.empty() {
		b.find(ref, PeerReflector, rfAutoEnabled, SeverityApproximate,
			"no namespace is left to push to (the conditions above match none that Courier can name); nothing is pushed and the annotations are kept")
		return
	}
	refs := b.push(PeerReflector, rfAutoEnabled, o, set)
	c.remove(present(ann, rfAutoKeys)...)
	b.pushFinding(ref, PeerReflector, rfAutoEnabled,
		"(every namespace "+rfAutoNamespaces+" names, all when it is empty, that "+rfAllowedNamespaces+" permits)", refs)
	msg := "Reflector skipped a namespace already holding an object of the same name and only logged it; %s takes over such an object when its content equals the source's (conflictPolicy Adopt) and reports the others as conflicts (Ready=False)"
	args := []any{refNames(refs)}
	if keys := nonToolingKeys(o.GetLabels(), ann); len(keys) > 0 {
		msg += "; Reflector's mirrors carried the source's data and type only, Courier's copies also carry its labels and annotations (tooling keys dropped): %s"
		args = append(args, quoteList(keys))
	}
	b.find(ref, PeerReflector, rfAutoEnabled, SeverityApproximate, msg, args...)
}

// reflectorSet is the set of namespaces a Reflector list and selector name: either
// matches (OR), and both empty match every namespace.
func (b *builder) reflectorSet(ref ObjectRef, ann map[string]string, namesKey, selKey string) nsSet {
	names, sel := strings.TrimSpace(ann[namesKey]), strings.TrimSpace(ann[selKey])
	if names == "" && sel == "" {
		return everyNamespace()
	}
	set := nsSet{}
	if names != "" {
		globs, _ := b.convertPatterns(ref, PeerReflector, namesKey, names, "targeted")
		set = set.union(globSet(globs))
	}
	if sel != "" {
		parsed, err := parseSelector(sel)
		if err != nil {
			b.find(ref, PeerReflector, selKey, SeverityApproximate,
				"not a label selector Courier can express (%v): Reflector matches no namespace by a selector it cannot parse; it is left out", err)
		} else {
			set = set.union(selectorSet(parsed))
		}
	}
	return set
}

// reflectorMatch is Reflector's own namespace check (MatchNamespace): the name
// matches one of the patterns, or the labels match the selector; both empty match
// every namespace.
func reflectorMatch(patterns, selector, name string, nsLabels map[string]string) bool {
	patterns, selector = strings.TrimSpace(patterns), strings.TrimSpace(selector)
	if patterns == "" && selector == "" {
		return true
	}
	if patterns != "" && matchesRegexList(patterns, name) {
		return true
	}
	if selector != "" {
		sel, err := klabels.Parse(selector)
		return err == nil && sel.Matches(klabels.Set(nsLabels))
	}
	return false
}

// reflectorAllows is Reflector's consent check for a manual mirror in namespace.
func (b *builder) reflectorAllows(src *unstructured.Unstructured, namespace string) (bool, string, string) {
	ann := src.GetAnnotations()
	ref := RefOf(src)
	if !isTrue(ann[rfAllowed]) {
		return false, SeverityApproximate, "the source " + ref.String() + " does not carry " + rfAllowed +
			`: "true", so Reflector copied nothing into this object; Courier refuses it likewise (Ready=False, reason NotShared) until the source consents`
	}
	nsLabels, known := b.namespaces[namespace]
	if strings.TrimSpace(ann[rfAllowedNamespacesSel]) != "" && !known && !matchesRegexList(ann[rfAllowedNamespaces], namespace) {
		return false, SeverityApproximate, "whether the source " + ref.String() + "'s " + rfAllowedNamespacesSel +
			" matches namespace " + namespace + " depends on its labels, and the input does not hold that Namespace; if it does not, Courier refuses the pull (NotShared) as Reflector did"
	}
	if !reflectorMatch(ann[rfAllowedNamespaces], ann[rfAllowedNamespacesSel], namespace, nsLabels) {
		return false, SeverityApproximate, "the source " + ref.String() + "'s consent does not cover namespace " + namespace +
			", so Reflector copied nothing into this object; Courier refuses it likewise (Ready=False, reason NotShared)"
	}
	return true, "", ""
}

// present returns the keys of ann among keys.
func present(ann map[string]string, keys []string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := ann[k]; ok {
			out = append(out, k)
		}
	}
	return out
}
