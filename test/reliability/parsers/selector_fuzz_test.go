package parsers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// FuzzLabelSelector checks v1alpha1.LabelSelector.AsSelector, which every target
// and source selector goes through, against Kubernetes' own
// metav1.LabelSelectorAsSelector: same acceptance, same matches. It never panics on
// input the schema would reject (the controller must survive objects stored before
// a schema change).
func FuzzLabelSelector(f *testing.F) {
	f.Add("team", "a", "tier", "In", "prod", "staging", "tier", "prod")
	f.Add("app.kubernetes.io/name", "web", "legacy", "DoesNotExist", "", "", "legacy", "yes")
	f.Add("", "", "k", "Exists", "", "", "k", "")
	f.Add("bad key", "v", "k", "NotIn", "a", "b", "k", "c")
	f.Add("k", "v", "k", "Near", "x", "", "k", "v")
	f.Add("k", "not a value!", "k", "In", "", "", "k", "v")
	f.Fuzz(func(t *testing.T, mk, mv, ek, op, v1, v2, lk, lv string) {
		ours := v1alpha1.LabelSelector{}
		theirs := metav1.LabelSelector{}
		if mk != "" {
			ours.MatchLabels = map[string]v1alpha1.LabelValue{mk: v1alpha1.LabelValue(mv)}
			theirs.MatchLabels = map[string]string{mk: mv}
		}
		if ek != "" {
			var vals []string
			for _, v := range []string{v1, v2} {
				if v != "" {
					vals = append(vals, v)
				}
			}
			req := v1alpha1.LabelSelectorRequirement{Key: ek, Operator: v1alpha1.LabelSelectorOperator(op)}
			for _, v := range vals {
				req.Values = append(req.Values, v1alpha1.LabelValue(v))
			}
			ours.MatchExpressions = []v1alpha1.LabelSelectorRequirement{req}
			theirs.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: ek, Operator: metav1.LabelSelectorOperator(op), Values: vals}}
		}
		got, gotErr := ours.AsSelector()
		want, wantErr := metav1.LabelSelectorAsSelector(&theirs)
		if (gotErr == nil) != (wantErr == nil) {
			// An unknown operator is the one deliberate difference: the CRD schema
			// (an enum) rejects it at admission, so AsSelector need not.
			if wantErr != nil && !knownOperator(op) {
				return
			}
			t.Fatalf("AsSelector error %v, Kubernetes says %v (%+v)", gotErr, wantErr, ours)
		}
		if gotErr != nil {
			return
		}
		set := labels.Set{lk: lv}
		if got.Matches(set) != want.Matches(set) {
			t.Fatalf("selector %+v on %v: ours %v, Kubernetes %v", ours, set, got.Matches(set), want.Matches(set))
		}
	})
}

func knownOperator(op string) bool {
	switch op {
	case "In", "NotIn", "Exists", "DoesNotExist":
		return true
	}
	return false
}
