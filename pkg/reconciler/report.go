package reconciler

import (
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/courier-operator/courier/internal/firstn"
)

// ConflictAction says what a ChildSet does when an object with a desired child's
// name exists but does not carry the ownership labels.
type ConflictAction int

const (
	// ConflictSkip leaves the object alone and reports the child as Conflict.
	ConflictSkip ConflictAction = iota
	// ConflictAdopt applies the ownership labels and desired fields without forcing:
	// fields with a different value owned by another field manager make the apply
	// fail, and the child is reported as Conflict (reason FieldConflict).
	ConflictAdopt
	// ConflictOverwrite applies the ownership labels and desired fields, forcing
	// ownership of every conflicting field.
	ConflictOverwrite
)

// PruneAction says what a ChildSet does with an owned child that is no longer desired.
type PruneAction int

const (
	// PruneDelete deletes the child (with a UID precondition).
	PruneDelete PruneAction = iota
	// PruneOrphan removes the ownership labels (and the HashAnnotation) and leaves
	// the object in place.
	PruneOrphan
)

// ChildAction is what happened to one child during a ChildSet step.
type ChildAction string

// Child actions reported in a ChildReport.
const (
	// ChildCreated: the child did not exist and was created (applied, or with Exact
	// POSTed).
	ChildCreated ChildAction = "Created"
	// ChildUpdated: the child differed (or was adopted/overwritten) and was written.
	ChildUpdated ChildAction = "Updated"
	// ChildUnchanged: the child matched; nothing was written.
	ChildUnchanged ChildAction = "Unchanged"
	// ChildDeleted: an owned child no longer desired was deleted.
	ChildDeleted ChildAction = "Deleted"
	// ChildOrphaned: an owned child no longer desired lost its ownership labels.
	ChildOrphaned ChildAction = "Orphaned"
	// ChildConflict: an object with the child's name is not ours (or adopting it hit
	// field conflicts); it was left alone.
	ChildConflict ChildAction = "Conflict"
	// ChildFailed: a read or write for this child failed (see Err).
	ChildFailed ChildAction = "Failed"
	// ChildContested: another writer keeps rewriting this child; its repair waits
	// (see Contests and ChildOutcome.RetryAfter).
	ChildContested ChildAction = "Contested"
)

// Reasons set on ChildOutcome.
const (
	// ReasonUnmanaged: an object with the child's name exists without the ownership labels.
	ReasonUnmanaged = "Unmanaged"
	// ReasonFieldConflict: adopting failed because another field manager owns a field
	// with a different value.
	ReasonFieldConflict = "FieldConflict"
	// ReasonContested: another writer keeps rewriting the child.
	ReasonContested = "Contested"
)

// ChildOutcome is the outcome for one child.
type ChildOutcome struct {
	// Kind of the child.
	Kind schema.GroupVersionKind
	// Key of the child.
	Key     types.NamespacedName
	Action  ChildAction
	Err     error
	Reason  string
	Message string
	// RetryAfter is when a Contested child's repair is due.
	RetryAfter time.Duration
}

// ChildReport is the outcome of one ChildSet step in one reconcile, in a stable
// order (by namespace, name, then kind).
type ChildReport struct {
	// Outcomes has one entry per desired child and per pruned child.
	Outcomes []ChildOutcome
	// Desired is the number of desired children.
	Desired int
}

// Count returns how many children had this action.
func (r ChildReport) Count(a ChildAction) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Action == a {
			n++
		}
	}
	return n
}

// Failed returns the children that failed, in stable order.
func (r ChildReport) Failed() []ChildOutcome { return r.filter(ChildFailed) }

// Conflicts returns the children in conflict with objects not owned, in stable order.
func (r ChildReport) Conflicts() []ChildOutcome { return r.filter(ChildConflict) }

// Contested returns the children other writers keep rewriting, in stable order.
func (r ChildReport) Contested() []ChildOutcome { return r.filter(ChildContested) }

// Synced returns how many desired children are in line with the desired state
// (created, updated or unchanged).
func (r ChildReport) Synced() int {
	return r.Count(ChildCreated) + r.Count(ChildUpdated) + r.Count(ChildUnchanged)
}

func (r ChildReport) filter(a ChildAction) []ChildOutcome {
	var out []ChildOutcome
	for _, o := range r.Outcomes {
		if o.Action == a {
			out = append(out, o)
		}
	}
	return out
}

// sortOutcomes puts outcomes in the report's stable order.
func sortOutcomes(os []ChildOutcome) {
	sort.Slice(os, func(i, j int) bool {
		a, b := os[i], os[j]
		if a.Key.Namespace != b.Key.Namespace {
			return a.Key.Namespace < b.Key.Namespace
		}
		if a.Key.Name != b.Key.Name {
			return a.Key.Name < b.Key.Name
		}
		return a.Kind.String() < b.Kind.String()
	})
}

func failed(ref childRef, err error) ChildOutcome {
	return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildFailed, Err: err, Reason: string(apierrors.ReasonForError(err)), Message: err.Error()}
}

// retryable reports whether a child write failure may succeed on retry.
func retryable(err error) bool {
	switch {
	case err == nil:
		return false
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsMethodNotSupported(err),
		apierrors.IsNotAcceptable(err), apierrors.IsUnsupportedMediaType(err), apierrors.IsRequestEntityTooLargeError(err):
		return false
	}
	return true
}

func resultOf(err error) string {
	if apierrors.IsConflict(err) {
		return "conflict"
	}
	return "error"
}

// summarize names the first few children of a list and how many more there are.
func summarize(os []ChildOutcome) string {
	const most = 3
	parts := make([]string, 0, most)
	for _, o := range os[:min(most, len(os))] {
		msg := o.Message
		if msg == "" {
			msg = o.Reason
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", o.Key, msg))
	}
	// Padded to len(os): Join shows the first most and counts the rest.
	return firstn.Join(append(parts, make([]string, len(os)-len(parts))...), most, "; ")
}
