package migrate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Limits of v1alpha1.LabelSelector, checked here so that a plan never holds an
// object the API server would reject.
const (
	maxMatchLabels      = 32
	maxMatchExpressions = 16
)

// parseSelector turns a label selector in kubectl syntax ("a=b,c in (d,e),!f"), as
// the replicator and Reflector take it in an annotation, into Courier's structured
// selector. "!=" becomes NotIn, which is what it means for a label selector.
func parseSelector(s string) (*v1alpha1.LabelSelector, error) {
	reqs, err := labels.ParseToRequirements(s)
	if err != nil {
		return nil, err
	}
	out := &v1alpha1.LabelSelector{}
	for _, r := range reqs {
		values := r.Values().List()
		var op v1alpha1.LabelSelectorOperator
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals:
			if _, dup := out.MatchLabels[r.Key()]; !dup {
				if out.MatchLabels == nil {
					out.MatchLabels = map[string]v1alpha1.LabelValue{}
				}
				out.MatchLabels[r.Key()] = v1alpha1.LabelValue(values[0])
				continue
			}
			op = v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpIn)
		case selection.NotEquals, selection.NotIn:
			op = v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpNotIn)
		case selection.In:
			op = v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpIn)
		case selection.Exists:
			op = v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpExists)
		case selection.DoesNotExist:
			op = v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpDoesNotExist)
		default:
			return nil, fmt.Errorf("operator %q of %q has no equivalent in a label selector object", r.Operator(), r.Key())
		}
		out.MatchExpressions = append(out.MatchExpressions, requirement(r.Key(), op, values))
	}
	return out, checkSelectorLimits(out)
}

// fromMetaSelector turns a Kubernetes label selector (a Kyverno match or clone
// selector) into Courier's. Kyverno accepts the wildcards '*' and '?' in
// matchLabels, a label selector does not: those are refused.
func fromMetaSelector(ls *metav1.LabelSelector) (*v1alpha1.LabelSelector, error) {
	if ls == nil {
		return nil, nil
	}
	out := &v1alpha1.LabelSelector{}
	for _, k := range slices.Sorted(maps.Keys(ls.MatchLabels)) {
		v := ls.MatchLabels[k]
		if strings.ContainsAny(k+v, "*?") {
			return nil, fmt.Errorf("matchLabels %s: %s uses a Kyverno wildcard, which a label selector cannot express", k, v)
		}
		if out.MatchLabels == nil {
			out.MatchLabels = map[string]v1alpha1.LabelValue{}
		}
		out.MatchLabels[k] = v1alpha1.LabelValue(v)
	}
	for _, e := range ls.MatchExpressions {
		switch e.Operator {
		case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
		default:
			return nil, fmt.Errorf("matchExpressions %s: operator %q is not a label selector operator", e.Key, e.Operator)
		}
		out.MatchExpressions = append(out.MatchExpressions, requirement(e.Key, v1alpha1.LabelSelectorOperator(e.Operator), e.Values))
	}
	if _, err := metav1.LabelSelectorAsSelector(ls); err != nil {
		return nil, err
	}
	return out, checkSelectorLimits(out)
}

func requirement(key string, op v1alpha1.LabelSelectorOperator, values []string) v1alpha1.LabelSelectorRequirement {
	r := v1alpha1.LabelSelectorRequirement{Key: key, Operator: op}
	for _, v := range sortedUnique(values) {
		r.Values = append(r.Values, v1alpha1.LabelValue(v))
	}
	return r
}

func checkSelectorLimits(s *v1alpha1.LabelSelector) error {
	if len(s.MatchLabels) > maxMatchLabels || len(s.MatchExpressions) > maxMatchExpressions {
		return fmt.Errorf("more than %d labels or %d expressions, which Courier's selector does not hold", maxMatchLabels, maxMatchExpressions)
	}
	return nil
}

// mergeSelectors is the selector matching what both a and b match (nil: no
// condition). A key both require with different values stays as two requirements,
// which together match nothing, as the two conditions do.
func mergeSelectors(a, b *v1alpha1.LabelSelector) *v1alpha1.LabelSelector {
	switch {
	case a == nil:
		return cloneSelector(b)
	case b == nil:
		return cloneSelector(a)
	}
	out := cloneSelector(a)
	for _, k := range slices.Sorted(maps.Keys(b.MatchLabels)) {
		v := b.MatchLabels[k]
		if old, ok := out.MatchLabels[k]; ok && old != v {
			out.MatchExpressions = append(out.MatchExpressions, requirement(k, v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpIn), []string{string(v)}))
			continue
		}
		if out.MatchLabels == nil {
			out.MatchLabels = map[string]v1alpha1.LabelValue{}
		}
		out.MatchLabels[k] = v
	}
	out.MatchExpressions = append(out.MatchExpressions, b.MatchExpressions...)
	return out
}

func cloneSelector(s *v1alpha1.LabelSelector) *v1alpha1.LabelSelector {
	if s == nil {
		return nil
	}
	return s.DeepCopy()
}

// negateSelector returns the requirement matching exactly the labels s does not
// match, when s is a single requirement (the negation of several is an OR, which a
// selector cannot say).
func negateSelector(s *v1alpha1.LabelSelector) (v1alpha1.LabelSelectorRequirement, bool) {
	if s == nil || len(s.MatchLabels)+len(s.MatchExpressions) != 1 {
		return v1alpha1.LabelSelectorRequirement{}, false
	}
	for k, v := range s.MatchLabels {
		return requirement(k, v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpNotIn), []string{string(v)}), true
	}
	e := s.MatchExpressions[0]
	values := make([]string, len(e.Values))
	for i, v := range e.Values {
		values[i] = string(v)
	}
	neg := map[v1alpha1.LabelSelectorOperator]metav1.LabelSelectorOperator{
		v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpIn):           metav1.LabelSelectorOpNotIn,
		v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpNotIn):        metav1.LabelSelectorOpIn,
		v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpExists):       metav1.LabelSelectorOpDoesNotExist,
		v1alpha1.LabelSelectorOperator(metav1.LabelSelectorOpDoesNotExist): metav1.LabelSelectorOpExists,
	}[e.Operator]
	return requirement(e.Key, v1alpha1.LabelSelectorOperator(neg), values), true
}
