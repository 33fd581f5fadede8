package reconciler

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Object is what a primary resource must implement to be reconciled by this package.
//
// The conditions and the observed generation live in the primary's status; the
// reconciler computes the kstatus conditions (Ready, Reconciling, Stalled) and the
// observed generation once per reconcile and writes them through the status
// subresource.
type Object interface {
	client.Object
	// GetConditions returns status.conditions.
	GetConditions() []metav1.Condition
	// SetConditions replaces status.conditions.
	SetConditions([]metav1.Condition)
	// GetObservedGeneration returns status.observedGeneration.
	GetObservedGeneration() int64
	// SetObservedGeneration sets status.observedGeneration.
	SetObservedGeneration(int64)
}

// Condition types maintained by the reconciler (kstatus).
const (
	// ConditionReady is True when the last reconcile of the current generation
	// succeeded, nothing is being waited for and no step reported a NotReady fact.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the reconciler is still working towards the
	// desired state (waiting, or retrying after a transient error). It is removed
	// otherwise.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when a step returned a Terminal error. It is removed
	// otherwise.
	ConditionStalled = "Stalled"
)

// Reasons used by the reconciler itself on its conditions.
const (
	// ReasonSucceeded is the Ready=True reason.
	ReasonSucceeded = "Succeeded"
	// ReasonTransientError is the Ready=False / Reconciling=True reason after an
	// unclassified (transient) error.
	ReasonTransientError = "TransientError"
	// ReasonTerminalError is used for a reconcile.TerminalError that was not created
	// with Terminal (and so carries no reason of its own).
	ReasonTerminalError = "TerminalError"
	// ReasonChildConflict is the NotReady reason recorded by a ChildSet when some
	// children conflict with objects it does not own.
	ReasonChildConflict = "ChildConflict"
	// ReasonChildFailed is the NotReady reason recorded by a ChildSet when some
	// children failed with a non-retryable error.
	ReasonChildFailed = "ChildFailed"
	// ReasonChildContested is the reason a ChildSet waits with when other writers
	// keep rewriting some children (see Contests).
	ReasonChildContested = "ChildContested"
)
