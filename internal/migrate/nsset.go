package migrate

import (
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/glob"
)

// maxPatterns is how many names or globs one list of ClusterTargets holds.
const maxPatterns = 64

// validGlob is what Courier takes as a namespace pattern (v1alpha1.NamespacePattern).
var validGlob = regexp.MustCompile(`^[-a-z0-9*?]{1,63}$`)

// nsTerm is one set of namespaces Courier's ClusterTargets can say: those matching
// sel (nil: any labels) and one of globs (nil: any name) and none of excl.
type nsTerm struct {
	sel   *v1alpha1.LabelSelector
	globs []string
	excl  []string
}

// nsSet is a union of terms: the namespaces a peer sends a source to. Several terms
// become several ClusterPropagations of the same source, because one
// ClusterTargets is an AND of its conditions and a peer's is often an OR.
type nsSet struct{ terms []nsTerm }

// everyNamespace is the set of all namespaces.
func everyNamespace() nsSet { return nsSet{terms: []nsTerm{{}}} }

// globSet is the set of namespaces matching one of globs (none for no globs).
func globSet(globs []string) nsSet {
	if len(globs) == 0 {
		return nsSet{}
	}
	return nsSet{terms: []nsTerm{{globs: pruneGlobs(globs)}}}
}

// pruneGlobs sorts globs and drops every glob another one covers ("team-a" next to
// "team-*"): the same namespaces, said once.
func pruneGlobs(globs []string) []string {
	globs = sortedUnique(globs)
	var out []string
	for _, p := range globs {
		if !slices.ContainsFunc(globs, func(q string) bool { return q != p && globCovers(q, p) }) {
			out = append(out, p)
		}
	}
	return out
}

// selectorSet is the set of namespaces whose labels match sel.
func selectorSet(sel *v1alpha1.LabelSelector) nsSet {
	if sel == nil {
		sel = &v1alpha1.LabelSelector{}
	}
	return nsSet{terms: []nsTerm{{sel: sel}}}
}

func (s nsSet) empty() bool { return len(s.terms) == 0 }

// union is the namespaces of s or t.
func (s nsSet) union(t nsSet) nsSet {
	return nsSet{terms: append(slices.Clone(s.terms), t.terms...)}
}

// intersect is the namespaces in both s and t. exact is false when a part of the
// intersection of two glob lists could not be decided; the result then holds
// fewer namespaces than the true intersection, never more.
func (s nsSet) intersect(t nsSet) (out nsSet, exact bool) {
	exact = true
	for _, a := range s.terms {
		for _, b := range t.terms {
			term, ok, ex := intersectTerms(a, b)
			exact = exact && ex
			if ok {
				out.terms = append(out.terms, term)
			}
		}
	}
	return out, exact
}

func intersectTerms(a, b nsTerm) (term nsTerm, nonEmpty, exact bool) {
	term = nsTerm{sel: mergeSelectors(a.sel, b.sel), excl: sortedUnique(append(slices.Clone(a.excl), b.excl...))}
	exact = true
	switch {
	case a.globs == nil:
		term.globs = slices.Clone(b.globs)
	case b.globs == nil:
		term.globs = slices.Clone(a.globs)
	default:
		term.globs, exact = intersectGlobs(a.globs, b.globs)
		term.globs = pruneGlobs(term.globs)
		if len(term.globs) == 0 {
			return nsTerm{}, false, exact
		}
	}
	return term, true, exact
}

// excludeGlobs removes the namespaces matching globs from every term: exactly what
// an excludeNamespaces entry does.
func (s nsSet) excludeGlobs(globs []string) nsSet {
	out := nsSet{}
	for _, t := range s.terms {
		t.excl = sortedUnique(append(slices.Clone(t.excl), globs...))
		out.terms = append(out.terms, t)
	}
	return out
}

// requireLabels adds the requirement r to every term's selector.
func (s nsSet) requireLabels(r v1alpha1.LabelSelectorRequirement) nsSet {
	out := nsSet{}
	for _, t := range s.terms {
		t.sel = mergeSelectors(t.sel, &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{r}})
		out.terms = append(out.terms, t)
	}
	return out
}

// targets renders s as the ClusterTargets of one ClusterPropagation per term. A
// term that only names namespaces (no selector, no exclusions) is excluded from the
// terms after it, so a namespace it covers gets its copy from one propagation only;
// overlap reports whether namespaces may still be targeted by two (terms with a
// selector cannot be excluded from each other), which Courier reports as a
// conflict on the second.
func (s nsSet) targets() (out []v1alpha1.ClusterTargets, overlap bool) {
	var covered []string
	var seen []nsTerm
	for _, t := range s.terms {
		if slices.ContainsFunc(seen, func(u nsTerm) bool { return reflect.DeepEqual(t, u) }) {
			continue // the same namespaces twice ("any" of two equal filters)
		}
		seen = append(seen, t)
		for _, globs := range chunk(sortedUnique(t.globs), maxPatterns) {
			ct := v1alpha1.ClusterTargets{NamespaceSelector: cloneSelector(t.sel)}
			for _, g := range globs {
				ct.Namespaces = append(ct.Namespaces, v1alpha1.NamespacePattern(g))
			}
			if t.globs == nil && t.sel == nil {
				ct.NamespaceSelector = &v1alpha1.LabelSelector{} // every namespace
			}
			for _, g := range sortedUnique(append(slices.Clone(t.excl), covered...)) {
				ct.ExcludeNamespaces = append(ct.ExcludeNamespaces, v1alpha1.NamespacePattern(g))
			}
			if len(out) > 0 && !disjointFromEarlier(out, ct) {
				overlap = true
			}
			out = append(out, ct)
			if t.sel == nil && t.globs != nil && len(t.excl) == 0 {
				covered = append(covered, globs...)
			}
		}
	}
	return out, overlap
}

// disjointFromEarlier is a cheap check that ct cannot target a namespace an
// earlier one targets: ct excludes every namespace the earlier one names, or both
// name their namespaces and no name of one can match a name of the other.
func disjointFromEarlier(earlier []v1alpha1.ClusterTargets, ct v1alpha1.ClusterTargets) bool {
	for _, e := range earlier {
		if e.Namespaces != nil && !slices.ContainsFunc(e.Namespaces, func(p v1alpha1.NamespacePattern) bool {
			return !excludedGlob(ct.ExcludeNamespaces, string(p))
		}) {
			continue // ct excludes every namespace e names
		}
		if e.Namespaces == nil || ct.Namespaces == nil {
			return false
		}
		for _, p := range e.Namespaces {
			for _, q := range ct.Namespaces {
				if !globsDisjoint(string(p), string(q)) && !excludedGlob(ct.ExcludeNamespaces, string(p)) {
					return false
				}
			}
		}
	}
	return true
}

// excludedGlob reports whether one of excl removes every name matching p.
func excludedGlob(excl []v1alpha1.NamespacePattern, p string) bool {
	for _, e := range excl {
		if globCovers(string(e), p) {
			return true
		}
	}
	return false
}

// chunk splits s into lists of at most n; nil stays one nil list (no name
// condition).
func chunk(s []string, n int) [][]string {
	if s == nil {
		return [][]string{nil}
	}
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// intersectGlobs returns globs whose namespaces are in both lists: each glob of
// one list that a glob of the other covers. exact says the result is the whole
// intersection: every remaining pair of globs was shown to match no common name.
func intersectGlobs(g1, g2 []string) ([]string, bool) {
	var out []string
	exact := true
	coveredBy := func(p string, list []string) bool {
		for _, q := range list {
			if globCovers(q, p) {
				return true
			}
		}
		return false
	}
	for _, p := range g1 {
		if coveredBy(p, g2) {
			out = append(out, p)
		}
	}
	for _, q := range g2 {
		if coveredBy(q, g1) {
			out = append(out, q)
		}
	}
	for _, p := range g1 {
		if coveredBy(p, g2) {
			continue
		}
		for _, q := range g2 {
			if !globCovers(p, q) && !globsDisjoint(p, q) {
				exact = false
			}
		}
	}
	return sortedUnique(out), exact
}

// globCovers reports whether every name matching p also matches q. It holds when
// q, read as a glob, matches the text of p and q has no '?': each '*' or '?' of p
// then falls inside a '*' of q, which matches whatever p's wildcard stands for.
func globCovers(q, p string) bool {
	return p == q || !strings.Contains(q, "?") && glob.Match(q, p)
}

// globsDisjoint reports whether no name can match both p and q because their
// literal beginnings or ends disagree.
func globsDisjoint(p, q string) bool {
	pre := func(s string) string {
		if i := strings.IndexAny(s, "*?"); i >= 0 {
			return s[:i]
		}
		return s
	}
	suf := func(s string) string {
		if i := strings.LastIndexAny(s, "*?"); i >= 0 {
			return s[i+1:]
		}
		return s
	}
	pp, qp := pre(p), pre(q)
	if !strings.HasPrefix(pp, qp) && !strings.HasPrefix(qp, pp) {
		return true
	}
	ps, qs := suf(p), suf(q)
	if !strings.HasSuffix(ps, qs) && !strings.HasSuffix(qs, ps) {
		return true
	}
	if !strings.ContainsAny(p, "*?") && !strings.ContainsAny(q, "*?") {
		return p != q
	}
	if !strings.ContainsAny(p, "*?") {
		return !glob.Match(q, p)
	}
	if !strings.ContainsAny(q, "*?") {
		return !glob.Match(p, q)
	}
	return false
}
