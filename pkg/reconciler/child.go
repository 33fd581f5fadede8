package reconciler

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// childWork decides, for one desired child, what to write (create, repair, adopt,
// overwrite, leave alone); child_write.go makes the writes.
type childWork[T client.Object, C client.Object] struct {
	step   *ChildSetStep[T, C]
	s      *State[T]
	labels map[string]string
}

func (w *childWork[T, C]) sync(ctx context.Context, ref childRef, d C, live C, has bool) ChildOutcome {
	if has {
		w.s.children.seen(ref)
		return w.repair(ctx, ref, d, live)
	}
	// Not among the owned children, which come from a cache that may be
	// label-filtered or stale: an unmanaged object with this name must never be
	// overwritten by accident.
	exact := w.step.cs.Exact
	if exact && w.s.children.awaited(ref, w.hashOf(d)) {
		// Created a moment ago, of this desired state, and its watch event is on
		// its way: that event runs this reconcile again with the child in the cache.
		// Reading it now would cost a GET per child created by the reconcile before
		// (a fifth of all requests in a fan-out of 20,000 copies).
		return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildUnchanged}
	}
	if exact && !w.s.children.pending(ref) {
		// Wholly owned children: one POST of the desired object. A POST never
		// overwrites, so only when the name is taken (AlreadyExists) is the object
		// read and looked at below. A child this reconciler created a moment ago
		// that the cache does not show yet is read instead (childMemos).
		if o, exists := w.create(ctx, ref, d); !exists {
			return o
		}
	}
	// Look at the API server (the uncached reader) before writing. Without Exact a
	// missing child is created with server-side apply, so that FieldOwner owns its
	// fields as an apply manager (later applies then remove fields no longer
	// desired).
	existing, err := w.get(ctx, ref, d)
	if apierrors.IsNotFound(err) {
		if exact {
			if w.s.children.pending(ref) {
				// Created by us, deleted since: create it again.
				w.s.children.seen(ref)
				if o, exists := w.create(ctx, ref, d); !exists {
					return o
				}
			}
			// The POST found the name taken, and the object is gone by now: a
			// concurrent delete; the next reconcile creates the child.
			return failed(ref, fmt.Errorf("%s %s was deleted while being created: %w", ref.gvk.Kind, ref.key, err))
		}
		return w.apply(ctx, ref, d, true, ChildCreated)
	}
	if err != nil {
		w.metric("get", "error")
		return failed(ref, err)
	}
	if hasLabels(existing, w.labels) {
		// Ours, but the cache has not caught up yet.
		return w.repair(ctx, ref, d, existing)
	}
	return w.conflict(ctx, ref, d, existing)
}

// conflict handles an object with the child's name that is not ours, as OnConflict
// says.
func (w *childWork[T, C]) conflict(ctx context.Context, ref childRef, d C, existing C) ChildOutcome {
	action, why := ConflictSkip, ""
	if w.step.cs.OnConflict != nil {
		action, why = w.step.cs.OnConflict(ctx, w.s, d, existing)
	}
	switch action {
	case ConflictAdopt:
		o := w.apply(ctx, ref, d, false, ChildUpdated)
		if o.Action == ChildFailed && apierrors.IsConflict(o.Err) {
			w.s.Log.V(1).Info("adopting child failed on field conflicts", "child", ref.key.String(), "kind", ref.gvk.Kind)
			return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildConflict, Err: o.Err, Reason: ReasonFieldConflict, Message: o.Message}
		}
		return o
	case ConflictOverwrite:
		return w.apply(ctx, ref, d, true, ChildUpdated)
	default:
		if why == "" {
			why = fmt.Sprintf("%s %s exists and is not managed by %s", ref.gvk.Kind, ref.key, w.step.fieldOwner(w.s))
		}
		return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildConflict, Reason: ReasonUnmanaged, Message: why}
	}
}

// repair brings an owned child in line: nothing if it matches (and, with Exact, is
// exact), else one write: an Update with Exact, an apply otherwise.
func (w *childWork[T, C]) repair(ctx context.Context, ref childRef, d C, live C) ChildOutcome {
	unchanged := ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildUnchanged}
	if h := w.step.cs.HashAnnotation; h != "" && d.GetAnnotations()[h] == live.GetAnnotations()[h] &&
		w.s.children.ours(ref, live.GetResourceVersion()) {
		// live is what our last write left, for this same desired state (childMemos).
		return unchanged
	}
	if w.s.children.behind(ref, live.GetResourceVersion(), w.hashOf(d)) {
		// The list still shows the version our last write replaced, and that write
		// was of this same desired state: the cache is behind us (a watch that
		// broke, or lags). A replace from it could only meet a conflict; the event of
		// our write, when it arrives, runs this reconcile again.
		return unchanged
	}
	want := d
	if key := w.step.cs.ContentDigest; isDigested(live, key) && !w.hashChanged(d, live) {
		// live comes from a cache that keeps its content's digest only: compare
		// like with like. (When the desired state's hash changed, a write is due
		// whatever the content, and nothing needs digesting.)
		var err error
		if want, err = digested(d, key); err != nil {
			return failed(ref, err)
		}
	}
	matches := w.matches(want, live)
	if matches && (!w.step.cs.Exact || exactCheck(want, live)) {
		return unchanged
	}
	if w.s.Log.V(1).Enabled() {
		field := "fields not desired"
		if !matches {
			field = mismatch(want, live, w.step.fieldOwner(w.s))
		}
		if key := w.step.cs.ContentDigest; key != "" && field == ".metadata.annotations."+key {
			field = "content (its digest)"
		}
		w.s.Log.V(1).Info("child differs from its desired state", "child", ref.key.String(), "kind", ref.gvk.Kind, "field", field)
	}
	contested := w.foreignEdit(ref, d, live)
	if contested {
		a := w.s.contests.Admit(ref, live.GetResourceVersion())
		if a.Started {
			w.s.metrics.contest(w.s.controller, w.step.cs.Name)
			a.Writer = OtherWriter(ctx, w.s.Reader, ref.gvk, ref.key, w.step.fieldOwner(w.s))
			w.s.contests.SetWriter(ref, a.Writer)
			w.s.Log.Info("another writer keeps rewriting a child; its repairs back off", "child", ref.key.String(), "kind", ref.gvk.Kind,
				"writer", a.Writer, "repairs", a.Repairs, "window", ContestWindow)
		}
		if !a.Write {
			return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildContested, Reason: ReasonContested, RetryAfter: a.Wait,
				Message: fmt.Sprintf("%s %s is rewritten by %s (%d repairs within %s); repaired again in %s, or once it is left alone for %s",
					ref.gvk.Kind, ref.key, a.WriterOrAnother(), a.Repairs, ContestWindow, a.Wait.Round(time.Millisecond), ContestQuiet)}
		}
	}
	var o ChildOutcome
	if w.step.cs.Exact {
		o = w.replace(ctx, ref, d, live)
		if o.Action == ChildFailed && apierrors.IsConflict(o.Err) {
			o = w.replaceFresh(ctx, ref, d)
		}
	} else {
		o = w.apply(ctx, ref, d, true, ChildUpdated)
	}
	if contested && o.Action == ChildUpdated {
		w.s.contests.Repaired(ref)
	}
	return o
}

// replaceFresh is the second try of a replace that met a newer version than the
// listed one: the list came from a cache that is behind (a watch broke and has not
// listed again yet). It reads the child live and writes once more, if still due,
// instead of failing and retrying from the same stale cache until it catches up.
func (w *childWork[T, C]) replaceFresh(ctx context.Context, ref childRef, d C) ChildOutcome {
	fresh, err := w.get(ctx, ref, d)
	if err != nil {
		// Deleted meanwhile (the next reconcile creates it), or unreadable.
		w.metric("get", "error")
		return failed(ref, err)
	}
	if !hasLabels(fresh, w.labels) {
		return w.conflict(ctx, ref, d, fresh)
	}
	if w.matches(d, fresh) && exactCheck(d, fresh) {
		return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildUnchanged}
	}
	return w.replace(ctx, ref, d, fresh)
}

// foreignEdit reports whether live differs from the desired state because someone
// else wrote it: its hash is still the one of the desired state (so the desired
// state did not change) and it is not at the version our own last write left. Only
// then does a repair count towards a contest; without a HashAnnotation, or after a
// restart (no memory of our writes), it cannot be told and never does.
func (w *childWork[T, C]) foreignEdit(ref childRef, d, live C) bool {
	h := w.step.cs.HashAnnotation
	return w.s.contests != nil && h != "" && d.GetAnnotations()[h] == live.GetAnnotations()[h] &&
		w.s.children.wroteBefore(ref) && !w.s.children.ours(ref, live.GetResourceVersion())
}

// OtherWriter names who else last wrote the object gvk/key (lastOtherWriter),
// reading its metadata live through reader: caches may strip managedFields, and
// the object's data is not needed. "" when it cannot be read.
func OtherWriter(ctx context.Context, reader client.Reader, gvk schema.GroupVersionKind, key client.ObjectKey, owner string) string {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(gvk)
	if err := reader.Get(ctx, key, live); err != nil {
		return ""
	}
	return lastOtherWriter(live, owner)
}

// lastOtherWriter names the field manager that last wrote obj besides owner, from
// its managedFields, e.g. "kubectl-edit (Update)"; "" when there is none (or obj
// came from a cache that strips managedFields). Times have a resolution of a
// second, and the API server orders the entries by operation, time and name, so
// nothing tells apart managers that wrote in the same second: all of them are
// named, "a (Update) or b (Update)", rather than a guess.
func lastOtherWriter(obj client.Object, owner string) string {
	var latest []string
	var at *metav1.Time
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == owner || mf.Subresource != "" {
			continue
		}
		name := fmt.Sprintf("%s (%s)", mf.Manager, mf.Operation)
		switch {
		case len(latest) == 0 || mf.Time != nil && (at == nil || mf.Time.After(at.Time)):
			latest, at = []string{name}, mf.Time
		case mf.Time.Equal(at):
			latest = append(latest, name)
		}
	}
	return strings.Join(latest, " or ")
}

// hashChanged reports whether d's HashAnnotation differs from live's: the desired
// state changed since live was written (or someone changed the hash).
func (w *childWork[T, C]) hashChanged(d, live C) bool {
	h := w.step.cs.HashAnnotation
	return h != "" && d.GetAnnotations()[h] != live.GetAnnotations()[h]
}

func (w *childWork[T, C]) matches(d, live C) bool {
	if w.hashChanged(d, live) {
		// A write is due, no need to compare every field.
		return false
	}
	return mismatch(d, live, w.step.fieldOwner(w.s)) == ""
}

// exactCheck is isExact (a variable so the tests can count the compares).
var exactCheck = isExact

func hasLabels(o client.Object, labels map[string]string) bool {
	got := o.GetLabels()
	for k, v := range labels {
		if got[k] != v {
			return false
		}
	}
	return true
}
