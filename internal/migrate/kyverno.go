package migrate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// triggerNamespace is the generate.namespace of a rule that generates into the
// Namespace that triggered it: the only kind of rule whose targets are namespaces.
var triggerNamespace = regexp.MustCompile(`^\{\{\s*request\.object\.metadata\.name\s*\}\}$`)

// kyverno converts the generate rules of Kyverno ClusterPolicies that clone
// existing objects (clone or cloneList) into every Namespace a match selects, and
// keep the clones in sync: that is a ClusterPropagation. Every other generate rule
// is a finding, and nothing is converted for it, since converting only part of
// its conditions would copy into more namespaces than Kyverno does.
func (b *builder) kyverno() {
	for _, o := range b.objs {
		ref := RefOf(o)
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != "kyverno.io" || ref.Kind != "ClusterPolicy" && ref.Kind != "Policy" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
		policyExisting, _, _ := unstructured.NestedBool(o.Object, "spec", "generateExisting")
		for i, r := range rules {
			rule, _ := r.(map[string]any)
			gen, ok := rule["generate"].(map[string]any)
			if !ok {
				continue
			}
			name, _ := rule["name"].(string)
			if name == "" {
				name = fmt.Sprint(i)
			}
			path := fmt.Sprintf("spec.rules[%s].generate", name)
			if ref.Kind == "Policy" {
				b.find(ref, PeerKyverno, path, SeverityUnsupported,
					"a namespaced Policy generates in response to objects of its own namespace, and Courier copies do not depend on a triggering object; nothing was converted: a Propagation in %s pulling the source (with the source's consent) is the nearest equivalent",
					ref.Namespace)
				continue
			}
			b.kyvernoRule(ref, name, path, rule, gen, policyExisting)
		}
	}
}

// kyvernoRule converts one generate rule of a ClusterPolicy.
func (b *builder) kyvernoRule(ref ObjectRef, ruleName, path string, rule, gen map[string]any, policyExisting bool) {
	unsupported := func(field, format string, args ...any) {
		b.find(ref, PeerKyverno, path+field, SeverityUnsupported, format+"; nothing was converted for this rule", args...)
	}
	kind, _ := gen["kind"].(string)
	if _, ok := gen["data"]; ok {
		name, _ := gen["name"].(string)
		unsupported(".data", "the rule generates a %s from data written in the policy, and Courier copies existing objects only: create that %s (%s) once in a namespace of its own and propagate it with a ClusterPropagation targeting the same namespaces", kind, kind, name)
		return
	}
	if _, ok := gen["foreach"]; ok {
		unsupported(".foreach", "foreach generates into namespaces computed per triggering object (a JMESPath list), which Courier's targets cannot compute")
		return
	}
	clone, hasClone := gen["clone"].(map[string]any)
	cloneList, hasList := gen["cloneList"].(map[string]any)
	if !hasClone && !hasList {
		return
	}
	if sync, _ := gen["synchronize"].(bool); !sync {
		unsupported(".synchronize", "synchronize is not true: Kyverno copies once and never updates or removes the clone, while a Courier copy always follows its source; keep the rule, or set synchronize: true and run the migration again to get a ClusterPropagation")
		return
	}
	if _, ok := rule["preconditions"]; ok {
		unsupported("", "the rule has preconditions, conditions on the request Courier's targets cannot evaluate")
		return
	}
	if ns, _ := gen["namespace"].(string); !triggerNamespace.MatchString(ns) {
		unsupported(".namespace", "the rule generates into %q, not into the Namespace that triggered it ({{request.object.metadata.name}}), so its targets are no set of namespaces", ns)
		return
	}
	set, problem := kyvernoMatch(rule["match"])
	if problem != "" {
		unsupported("", "match: %s", problem)
		return
	}
	if set, problem = kyvernoExclude(set, rule["exclude"]); problem != "" {
		unsupported("", "exclude: %s", problem)
		return
	}
	var sources []v1alpha1.SourceReference
	var template *v1alpha1.CopyTemplate
	if hasClone {
		apiVersion, _ := gen["apiVersion"].(string)
		ns, _ := clone["namespace"].(string)
		name, _ := clone["name"].(string)
		target, _ := gen["name"].(string)
		if apiVersion == "" || kind == "" || !literal(ns, name, target) || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
			unsupported(".clone", "the clone source is not a fixed apiVersion, kind, namespace and name (a variable, or a field missing), which a ClusterPropagation's source must be")
			return
		}
		sources = append(sources, v1alpha1.SourceReference{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name})
		if target != "" && target != name {
			template = &v1alpha1.CopyTemplate{Name: target}
		}
	} else {
		ns, _ := cloneList["namespace"].(string)
		kinds, _ := stringsOf(cloneList["kinds"])
		var sel *v1alpha1.LabelSelector
		if raw, ok := cloneList["selector"].(map[string]any); ok {
			var ls metav1.LabelSelector
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
				unsupported(".cloneList.selector", "the selector cannot be read (%v)", err)
				return
			}
			s, err := fromMetaSelector(&ls)
			if err != nil {
				unsupported(".cloneList.selector", "%v", err)
				return
			}
			sel = s
		}
		if sel == nil {
			sel = &v1alpha1.LabelSelector{} // Kyverno clones every object of the kinds
		}
		if !literal(ns) || len(validation.IsDNS1123Label(ns)) > 0 || len(kinds) == 0 || len(kinds) > 16 {
			unsupported(".cloneList", "the cloneList needs a fixed namespace and 1 to 16 kinds for a ClusterPropagation")
			return
		}
		for _, k := range kinds {
			apiVersion, kindName, ok := parseKyvernoKind(k)
			if !ok {
				unsupported(".cloneList.kinds", "%q is not a kind Courier can name (Kind, version/Kind or group/version/Kind)", k)
				return
			}
			sources = append(sources, v1alpha1.SourceReference{APIVersion: apiVersion, Kind: kindName, Namespace: ns, Selector: sel.DeepCopy()})
		}
	}
	if set.empty() {
		unsupported("", "the match and exclude blocks leave no namespace to generate into")
		return
	}
	refs := b.pushSources(PeerKyverno, ref, path, dnsName("clusterpolicy", ref.Name, ruleName),
		fmt.Sprintf("%s/%s/%s", PeerKyverno, ref, ruleName), sources, template, set)
	existing, ok := gen["generateExisting"].(bool)
	if !ok {
		existing = policyExisting
	}
	if !existing {
		b.find(ref, PeerKyverno, path+".generateExisting", SeverityApproximate,
			"without generateExisting Kyverno cloned only into Namespaces created (or updated) after the policy; %s copies into every matching namespace, existing ones too", refNames(refs))
	}
	note := ""
	for _, s := range sources {
		if n := extraKindNote(s.APIVersion, s.Kind); n != "" {
			note = n
		}
	}
	b.find(ref, PeerKyverno, path, SeverityApproximate,
		"this rule is replaced by %s; remove the rule (or the policy) once that is Ready: Kyverno keeps the clones it made when its rule goes, and Courier adopts them, while with both running each keeps rewriting the copies' labels (Kyverno's generate.kyverno.io labels, which Courier drops).%s",
		refNames(refs), note)
}

// kyvernoMatch reads a rule's match block as the namespaces it selects. Only
// filters on Namespace objects by name, namespace (for a Namespace, its own name),
// label selector and namespace selector (for a Namespace, its own labels) are
// expressible; problem says why another is not.
func kyvernoMatch(raw any) (nsSet, string) {
	m, _ := raw.(map[string]any)
	if m == nil {
		return nsSet{}, "the rule has no match block"
	}
	if anyOf, ok := m["any"].([]any); ok {
		out := nsSet{}
		for _, f := range anyOf {
			s, problem := kyvernoFilter(f)
			if problem != "" {
				return nsSet{}, problem
			}
			out = out.union(s)
		}
		return out, ""
	}
	if allOf, ok := m["all"].([]any); ok {
		out := everyNamespace()
		for _, f := range allOf {
			s, problem := kyvernoFilter(f)
			if problem != "" {
				return nsSet{}, problem
			}
			var exact bool
			if out, exact = out.intersect(s); !exact {
				return nsSet{}, "the names of its filters cannot be intersected exactly"
			}
		}
		return out, ""
	}
	return kyvernoFilter(m) // the deprecated form: a single filter at the top
}

// kyvernoFilter reads one resource filter of a match block.
func kyvernoFilter(raw any) (nsSet, string) {
	f, _ := raw.(map[string]any)
	for _, who := range []string{"subjects", "roles", "clusterRoles"} {
		if v, ok := f[who].([]any); ok && len(v) > 0 {
			return nsSet{}, "it selects by the " + who + " making the request, which Courier's targets do not depend on"
		}
	}
	res, _ := f["resources"].(map[string]any)
	if res == nil {
		return nsSet{}, "a filter selects no resources"
	}
	kinds, _ := stringsOf(res["kinds"])
	if len(kinds) == 0 {
		return nsSet{}, "a filter names no kinds"
	}
	for _, k := range kinds {
		if !isNamespaceKind(k) {
			return nsSet{}, fmt.Sprintf("it matches %s objects, and Courier's targets are namespaces: only a rule triggered by Namespaces is converted", k)
		}
	}
	if ops, ok := stringsOf(res["operations"]); ok && len(ops) > 0 && !slices.Contains(ops, "CREATE") {
		return nsSet{}, "it runs on " + strings.Join(ops, ", ") + " only, not when a Namespace is created"
	}
	if a, ok := res["annotations"].(map[string]any); ok && len(a) > 0 {
		return nsSet{}, "it selects Namespaces by annotations, which Courier's targets cannot"
	}
	set := everyNamespace()
	for _, field := range []string{"names", "name", "namespaces"} {
		var names []string
		if field == "name" {
			if n, ok := res[field].(string); ok && n != "" {
				names = []string{n}
			}
		} else {
			names, _ = stringsOf(res[field])
		}
		if names == nil {
			continue
		}
		for _, n := range names {
			if !validGlob.MatchString(n) {
				return nsSet{}, fmt.Sprintf("%s entry %q is no namespace name or glob", field, n)
			}
		}
		var exact bool
		if set, exact = set.intersect(globSet(names)); !exact {
			return nsSet{}, "its names and namespaces cannot be intersected exactly"
		}
	}
	sel, why := resourceSelector(res)
	if why != "" {
		return nsSet{}, why
	}
	if sel != nil {
		set, _ = set.intersect(selectorSet(sel))
	}
	return set, ""
}

// kyvernoExclude removes from set the namespaces an exclude block excludes, when a
// Courier target can say it: names and globs become excludeNamespaces, a selector
// of one requirement its negation in the namespace selector.
func kyvernoExclude(set nsSet, raw any) (nsSet, string) {
	m, _ := raw.(map[string]any)
	if m == nil {
		return set, ""
	}
	var filters []any
	switch {
	case m["any"] != nil:
		filters, _ = m["any"].([]any)
	case m["all"] != nil:
		filters, _ = m["all"].([]any)
		if len(filters) > 1 {
			return nsSet{}, "an exclude of several filters that must all hold cannot be subtracted from Courier's targets"
		}
	default:
		filters = []any{m}
	}
	for _, raw := range filters {
		f, _ := raw.(map[string]any)
		for _, who := range []string{"subjects", "roles", "clusterRoles"} {
			if v, ok := f[who].([]any); ok && len(v) > 0 {
				return nsSet{}, "it excludes by the " + who + " making the request (Kyverno skipped Namespaces they create), which Courier's targets do not depend on"
			}
		}
		res, _ := f["resources"].(map[string]any)
		if res == nil {
			continue
		}
		kinds, _ := stringsOf(res["kinds"])
		if len(kinds) > 0 && !slices.ContainsFunc(kinds, isNamespaceKind) {
			continue // excludes other kinds only: never a Namespace trigger
		}
		if _, ok := res["operations"]; ok {
			return nsSet{}, "it excludes by operation, which Courier's targets do not depend on"
		}
		names, _ := stringsOf(res["names"])
		if n, ok := res["name"].(string); ok && n != "" {
			names = append(names, n)
		}
		namespaces, _ := stringsOf(res["namespaces"])
		for _, n := range append(names, namespaces...) {
			if !validGlob.MatchString(n) {
				return nsSet{}, fmt.Sprintf("entry %q is no namespace name or glob", n)
			}
		}
		_, hasSel := res["selector"]
		_, hasNsSel := res["namespaceSelector"]
		switch {
		case (len(names) > 0 || len(namespaces) > 0) && (hasSel || hasNsSel):
			return nsSet{}, "it excludes by names and labels together, which an exclusion in Courier's targets cannot say"
		case len(names) > 0 && len(namespaces) > 0:
			both, exact := intersectGlobs(names, namespaces)
			if !exact {
				return nsSet{}, "its names and namespaces cannot be intersected exactly"
			}
			set = set.excludeGlobs(both)
		case len(names)+len(namespaces) > 0:
			set = set.excludeGlobs(append(names, namespaces...))
		case hasSel || hasNsSel:
			sel, why := resourceSelector(res)
			if why != "" {
				return nsSet{}, why
			}
			req, ok := negateSelector(sel)
			if !ok {
				return nsSet{}, "it excludes by a selector of several requirements, whose negation (an OR) a namespace selector cannot say"
			}
			set = set.requireLabels(req)
		default:
			set = nsSet{} // a filter on kinds alone excludes every Namespace
		}
	}
	return set, ""
}

// isNamespaceKind reports whether a Kyverno kind names core Namespaces ("Namespace",
// "v1/Namespace", "*/Namespace").
func isNamespaceKind(k string) bool {
	parts := strings.Split(k, "/")
	if parts[len(parts)-1] != "Namespace" {
		return false
	}
	switch len(parts) {
	case 1:
		return true
	case 2:
		return parts[0] == "v1" || parts[0] == "*"
	case 3:
		return (parts[0] == "" || parts[0] == "core" || parts[0] == "*") && (parts[1] == "v1" || parts[1] == "*")
	}
	return false
}

// parseKyvernoKind reads a cloneList kind: "v1/Secret", "group/version/Kind", or a
// bare "Secret" or "ConfigMap" (core v1).
func parseKyvernoKind(k string) (apiVersion, kind string, ok bool) {
	parts := strings.Split(k, "/")
	switch len(parts) {
	case 1:
		if k == "Secret" || k == "ConfigMap" {
			return "v1", k, true
		}
	case 2:
		return parts[0], parts[1], parts[0] != "" && parts[1] != "" && !strings.Contains(k, "*")
	case 3:
		return parts[0] + "/" + parts[1], parts[2], parts[0] != "" && !strings.Contains(k, "*")
	}
	return "", "", false
}

// literal reports whether none of values uses a Kyverno variable.
func literal(values ...string) bool {
	for _, v := range values {
		if strings.Contains(v, "{{") {
			return false
		}
	}
	return true
}

// stringsOf reads a list of strings from unstructured content.
func stringsOf(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// resourceSelector reads a match or exclude clause's selector and namespaceSelector
// (both select the triggering Namespace) as one selector, or says why it cannot.
func resourceSelector(res map[string]any) (*v1alpha1.LabelSelector, string) {
	var sel *v1alpha1.LabelSelector
	for _, field := range []string{"selector", "namespaceSelector"} {
		raw, ok := res[field].(map[string]any)
		if !ok {
			continue
		}
		var ls metav1.LabelSelector
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
			return nil, fmt.Sprintf("its %s cannot be read (%v)", field, err)
		}
		s, err := fromMetaSelector(&ls)
		if err != nil {
			return nil, fmt.Sprintf("its %s: %v", field, err)
		}
		sel = mergeSelectors(sel, s)
	}
	return sel, ""
}
