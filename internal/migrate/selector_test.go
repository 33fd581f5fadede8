package migrate

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/courier-operator/courier/api/v1alpha1"
)

func matches(t *testing.T, s *v1alpha1.LabelSelector, lbl map[string]string) bool {
	t.Helper()
	m := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for k, v := range s.MatchLabels {
		m.MatchLabels[k] = string(v)
	}
	for _, e := range s.MatchExpressions {
		r := metav1.LabelSelectorRequirement{Key: e.Key, Operator: metav1.LabelSelectorOperator(e.Operator)}
		for _, v := range e.Values {
			r.Values = append(r.Values, string(v))
		}
		m.MatchExpressions = append(m.MatchExpressions, r)
	}
	sel, err := metav1.LabelSelectorAsSelector(m)
	if err != nil {
		t.Fatal(err)
	}
	return sel.Matches(labels.Set(lbl))
}

// TestParseSelectorMeansTheSame: the structured selector matches exactly what the
// kubectl-syntax one matches.
func TestParseSelectorMeansTheSame(t *testing.T) {
	sets := []map[string]string{{}, {"a": "b"}, {"a": "c"}, {"a": "b", "env": "dev"}, {"a": "b", "env": "prod"}, {"x": "1"}, {"team": "a", "x": "2"}}
	for _, s := range []string{"a=b", "a==b", "a!=b", "a=b,env!=dev", "env in (prod,dev)", "env notin (dev)", "x", "!x", "team=a,x"} {
		got, err := parseSelector(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := labels.Parse(s)
		for _, set := range sets {
			if matches(t, got, set) != want.Matches(labels.Set(set)) {
				t.Errorf("%q and its conversion disagree on %v", s, set)
			}
		}
	}
	if _, err := parseSelector("a>1"); err == nil {
		t.Error("a>1 has no label selector equivalent")
	}
}

func TestNegateAndMergeSelectors(t *testing.T) {
	sets := []map[string]string{{}, {"a": "b"}, {"a": "c"}, {"k": "v"}}
	for _, s := range []string{"a=b", "a in (b,c)", "a notin (b)", "a", "!a"} {
		sel, _ := parseSelector(s)
		neg, ok := negateSelector(sel)
		if !ok {
			t.Fatalf("%q: not negated", s)
		}
		negSel := &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{neg}}
		for _, set := range sets {
			if matches(t, sel, set) == matches(t, negSel, set) {
				t.Errorf("%q and its negation agree on %v", s, set)
			}
		}
	}
	two, _ := parseSelector("a=b,k=v")
	if _, ok := negateSelector(two); ok {
		t.Error("a selector of two requirements has no single negation")
	}
	x, _ := parseSelector("a=b")
	y, _ := parseSelector("a=c,k=v")
	both := mergeSelectors(x, y)
	for _, set := range append(sets, map[string]string{"a": "b", "k": "v"}, map[string]string{"a": "c", "k": "v"}) {
		if matches(t, both, set) != (matches(t, x, set) && matches(t, y, set)) {
			t.Errorf("the merge is not the AND on %v", set)
		}
	}
}
