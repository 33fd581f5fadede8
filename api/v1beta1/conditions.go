package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// GetConditions returns the status conditions (used by the reconcile DSL).
func (p *ClusterPropagation) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the status conditions.
func (p *ClusterPropagation) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// GetObservedGeneration returns status.observedGeneration.
func (p *ClusterPropagation) GetObservedGeneration() int64 { return p.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (p *ClusterPropagation) SetObservedGeneration(g int64) { p.Status.ObservedGeneration = g }

// GetConditions returns the status conditions (used by the reconcile DSL).
func (p *Propagation) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the status conditions.
func (p *Propagation) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// GetObservedGeneration returns status.observedGeneration.
func (p *Propagation) GetObservedGeneration() int64 { return p.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (p *Propagation) SetObservedGeneration(g int64) { p.Status.ObservedGeneration = g }

// AsSelector converts the selector to a labels.Selector. A nil selector matches
// nothing; an empty one matches everything (the Kubernetes convention).
func (s *LabelSelector) AsSelector() (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	sel := labels.NewSelector()
	for k, v := range s.MatchLabels {
		r, err := labels.NewRequirement(k, selection.Equals, []string{string(v)})
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	for _, e := range s.MatchExpressions {
		var op selection.Operator
		switch e.Operator {
		case "In":
			op = selection.In
		case "NotIn":
			op = selection.NotIn
		case "Exists":
			op = selection.Exists
		case "DoesNotExist":
			op = selection.DoesNotExist
		}
		vals := make([]string, len(e.Values))
		for i, v := range e.Values {
			vals[i] = string(v)
		}
		r, err := labels.NewRequirement(e.Key, op, vals)
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	return sel, nil
}
