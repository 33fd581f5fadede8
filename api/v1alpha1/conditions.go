package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
// nothing; an empty one matches everything (the Kubernetes convention). The hub's
// selector does the work, so both versions select alike.
func (s *LabelSelector) AsSelector() (labels.Selector, error) {
	return selectorTo(s).AsSelector()
}
