package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// DefaultParallelism is the number of concurrent child writes of a ChildSet when
// Parallelism is not set.
const DefaultParallelism = 16

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
	// PruneOrphan removes the ownership labels and leaves the object in place.
	PruneOrphan
	// PruneKeep leaves the child untouched (it stays labelled as owned).
	PruneKeep
)

// ChildAction is what happened to one child during a ChildSet step.
type ChildAction string

// Child actions reported in a ChildReport.
const (
	// ChildCreated: the child did not exist and was created (applied, or with Exact
	// POSTed).
	ChildCreated ChildAction = "Created"
	// ChildUpdated: the child differed (or was adopted/overwritten) and was applied.
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
	// ChildKept is reported for an owned, undesired child whose Prune said PruneKeep.
	ChildKept ChildAction = "Kept"
)

// Reasons set on ChildOutcome.
const (
	// ReasonUnmanaged: an object with the child's name exists without the ownership labels.
	ReasonUnmanaged = "Unmanaged"
	// ReasonFieldConflict: adopting failed because another field manager owns a field
	// with a different value.
	ReasonFieldConflict = "FieldConflict"
)

// ChildOutcome is the outcome for one child.
type ChildOutcome struct {
	Key     types.NamespacedName
	Action  ChildAction
	Err     error
	Reason  string
	Message string
}

// ChildReport is the outcome of one ChildSet step in one reconcile, in a stable
// order (by namespace, then name).
type ChildReport struct {
	// Outcomes has one entry per desired child and per pruned (or kept) child.
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

// ChildSet keeps a set of children (any GVK, typed or *unstructured.Unstructured, any
// namespace) in line with the primary. It is a Step.
//
// Each reconcile lists the actual children by Labels (and Namespace), computes the
// desired ones, and for each desired child:
//   - not listed → read through the uncached Reader, then server-side apply
//     (create) if absent; with Exact, ONE Create (POST) instead, and the read only
//     when the POST finds the name taken (AlreadyExists);
//   - owned and Matches (and Exact, if set) → nothing;
//   - owned and different → server-side apply, or one full-object Update with Exact;
//   - present but not owned → OnConflict.
//
// Owned children no longer desired are pruned. Writes run in parallel
// (Parallelism). A steady state makes no write.
//
// Conflicts are reported as a NotReady fact (ReasonChildConflict), children failing
// with a non-retryable error (invalid, bad request) as NotReady (ReasonChildFailed);
// if any child failed with a retryable error the step returns one aggregated
// transient error after every child was tried. The report is available to later
// steps and to the Status hook through State.Children(Name).
type ChildSet[T client.Object, C client.Object] struct {
	// Name of the step (metrics, State.Children).
	Name string
	// FieldOwner is the field manager of every write (server-side apply, and the
	// Create and Update of Exact), e.g. "courier". Defaults to the controller name.
	FieldOwner string
	// NewList returns an empty list of children, e.g. &corev1.SecretList{} or an
	// UnstructuredList with its GVK set.
	NewList func() client.ObjectList
	// Labels are the ownership labels: stamped on every desired child and used as
	// the selector to list actual children. Required, must not be empty.
	Labels func(parent T) map[string]string
	// Namespace to list children in; nil or "" lists all namespaces.
	Namespace func(parent T) string
	// Desired returns the desired children, with deterministic names (never
	// generateName).
	//
	// Matches, OnConflict and Prune are called from up to Parallelism goroutines at
	// once: they must not modify the State (record facts after the step instead, from
	// State.Children).
	Desired func(ctx context.Context, s *State[T]) ([]C, error)
	// Matches reports whether live is already in line with desired (desired carries
	// the ownership labels). Optional; the default (DefaultMatches) is a subset
	// compare that ignores fields defaulted by the server.
	Matches func(desired, live C) bool
	// OnConflict is asked when an object with a desired name exists but lacks the
	// ownership labels. Optional; default ConflictSkip.
	OnConflict func(ctx context.Context, s *State[T], desired C, live C) ConflictAction
	// Prune says what to do with owned children no longer desired. Optional; default
	// PruneDelete.
	Prune func(live C) PruneAction
	// Parallelism bounds concurrent writes (default DefaultParallelism).
	Parallelism int
	// Lister returns the reader used to list actual children. Optional; default
	// s.Client (the manager's cache).
	Lister func(s *State[T]) client.Reader
	// HashAnnotation, if set, is an annotation key on which every desired child
	// carries a hash of its own desired state. The default Matches then notices any
	// change of the desired state, including fields removed from it, without
	// managedFields. Set it when children are listed from a cache that strips
	// managedFields (cache.TransformStripManagedFields): otherwise a field dropped
	// from the desired state (e.g. a key removed from a ConfigMap's data) is never
	// removed from the live child.
	HashAnnotation string
	// Exact, if set, makes owned children exact copies of their desired state, not
	// supersets: it reports whether live carries nothing the desired object does not
	// want (DefaultExact is the usual choice). Server-side apply only removes fields
	// its own field manager set, so a field another manager added (kubectl edit, a
	// second controller) would otherwise stay forever. When an owned live child does
	// not match, or matches but is not exact, the ChildSet repairs it with ONE
	// full-object Update (PUT with the live resourceVersion, field manager
	// FieldOwner) instead of an apply; a conflict (stale cache, concurrent writer) is
	// a transient failure retried by the next reconcile.
	//
	// With Exact a missing child is created with ONE Create (POST of the desired
	// object, field manager FieldOwner, operation Update in managedFields) instead
	// of a read and a server-side apply: a POST never overwrites, so the read
	// happens only when the POST fails with AlreadyExists, and the object found is
	// then handled as without Exact (ours but not yet in the list → repaired; not
	// ours → OnConflict). Such children carry no Apply managedFields entry; that is
	// fine, because Exact (not the default Matches' managedFields check) is what
	// removes fields no longer desired. Adoptions and overwrites (OnConflict) still
	// use server-side apply.
	//
	// The Update keeps live's lifecycle metadata (uid, resourceVersion,
	// creationTimestamp, finalizers, ownerReferences, managedFields, deletion
	// fields) and status; it replaces every other top-level field and the labels and
	// annotations with the desired ones, keeping only label and annotation keys in
	// the Kubernetes-reserved domains (kubernetes.io, k8s.io) that desired does not
	// set. Only use Exact for kinds the API server does not default or mutate on
	// write (or whose desired state already carries those defaults, e.g. a copy of
	// a stored object): a field the server or a webhook re-adds on every write
	// would make every reconcile write.
	Exact func(desired, live C) bool
}

type childSetStep[T client.Object, C client.Object] struct{ ChildSet[T, C] }

func (c childSetStep[T, C]) Name() string { return c.ChildSet.Name }

// Step returns the ChildSet as a Step[T], for use in Builder.Steps and Sequence:
//
//	Steps(finalizer, reconciler.ChildSet[*Widget, *corev1.ConfigMap]{Name: "configmaps", ...}.Step())
//
// (Go does not allow a field and a method both called Name, so ChildSet itself keeps
// the Name field and Step adapts it to the Step interface.)
func (c ChildSet[T, C]) Step() Step[T] { return childSetStep[T, C]{c} }

func (c childSetStep[T, C]) Reconcile(ctx context.Context, s *State[T]) error {
	return c.ChildSet.Reconcile(ctx, s)
}

type childKey = types.NamespacedName

// Reconcile runs the ChildSet once. See ChildSet.
func (c ChildSet[T, C]) Reconcile(ctx context.Context, s *State[T]) error {
	if c.Labels == nil || c.NewList == nil || c.Desired == nil {
		return Terminal("InvalidChildSet", "child set %q needs Labels, NewList and Desired", c.Name)
	}
	parent := s.Object
	labels := c.Labels(parent)
	if len(labels) == 0 {
		return Terminal("InvalidChildSet", "child set %q has no ownership labels", c.Name)
	}
	desired, err := c.Desired(ctx, s)
	if err != nil {
		return err
	}

	list := c.NewList()
	opts := []client.ListOption{client.MatchingLabels(labels)}
	if c.Namespace != nil {
		if ns := c.Namespace(parent); ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
	}
	var reader client.Reader = s.Client
	if c.Lister != nil {
		reader = c.Lister(s)
	}
	if err := reader.List(ctx, list, opts...); err != nil {
		return fmt.Errorf("listing children of %s: %w", c.Name, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return fmt.Errorf("listing children of %s: %w", c.Name, err)
	}
	live := make(map[childKey]C, len(items))
	for _, it := range items {
		ci, ok := it.(C)
		if !ok {
			return Terminal("InvalidChildSet", "child set %q: list item %T is not the child type", c.Name, it)
		}
		live[client.ObjectKeyFromObject(ci)] = ci
	}

	w := &childWork[T, C]{cs: c, s: s, labels: labels}
	seen := make(map[childKey]bool, len(desired))
	tasks := make([]func(context.Context) ChildOutcome, 0, len(desired)+len(live))
	for _, d := range desired {
		if d.GetName() == "" {
			return Terminal("InvalidChild", "child set %q: a desired child has no name (generateName is not supported)", c.Name)
		}
		gvk, err := apiutil.GVKForObject(d, s.scheme)
		if err != nil {
			return Terminal("InvalidChild", "child set %q: %v", c.Name, err)
		}
		k := client.ObjectKeyFromObject(d)
		if seen[k] {
			return Terminal("DuplicateChild", "child set %q: child %s is desired twice", c.Name, k)
		}
		seen[k] = true
		l, has := live[k]
		tasks = append(tasks, func(ctx context.Context) ChildOutcome {
			// Stamped here, in parallel, not before the first write: for a
			// thousand children that CPU work overlaps the writes.
			d := stampLabels(d, labels)
			if c.HashAnnotation != "" {
				var err error
				if d, err = stampHash(d, gvk, c.HashAnnotation); err != nil {
					return failed(k, fmt.Errorf("hashing the desired state: %w", err))
				}
			}
			return w.sync(ctx, k, d, gvk, l, has)
		})
	}
	for k, l := range live {
		if !seen[k] {
			tasks = append(tasks, func(ctx context.Context) ChildOutcome { return w.prune(ctx, k, l) })
		}
	}

	outcomes := runBounded(ctx, c.parallelism(), tasks)
	sort.Slice(outcomes, func(i, j int) bool {
		if outcomes[i].Key.Namespace != outcomes[j].Key.Namespace {
			return outcomes[i].Key.Namespace < outcomes[j].Key.Namespace
		}
		return outcomes[i].Key.Name < outcomes[j].Key.Name
	})
	report := ChildReport{Outcomes: outcomes, Desired: len(desired)}
	s.setReport(c.Name, report)

	var retry, permanent []ChildOutcome
	for _, o := range report.Failed() {
		if retryable(o.Err) {
			retry = append(retry, o)
		} else {
			permanent = append(permanent, o)
		}
	}
	if conflicts := report.Conflicts(); len(conflicts) > 0 {
		s.NotReady(ReasonChildConflict, "%d of %d children conflict with objects not managed by %s: %s", len(conflicts), report.Desired, c.fieldOwner(s), summarize(conflicts))
	}
	if len(permanent) > 0 {
		s.NotReady(ReasonChildFailed, "%d children failed: %s", len(permanent), summarize(permanent))
	}
	if len(retry) > 0 {
		return fmt.Errorf("%d of %d children of %s failed: %s", len(retry), len(outcomes), c.Name, summarize(retry))
	}
	return nil
}

// Release prunes every owned child as if none were desired, honouring Prune (delete,
// orphan or keep). Use it as the cleanup of a Finalizer so children are removed
// before the primary is released:
//
//	reconciler.Finalizer[*Widget]("finalizer", "example.com/cleanup", configMaps.Release)
func (c ChildSet[T, C]) Release(ctx context.Context, s *State[T]) error {
	c.Desired = func(context.Context, *State[T]) ([]C, error) { return nil, nil }
	return c.Reconcile(ctx, s)
}

func (c ChildSet[T, C]) parallelism() int {
	if c.Parallelism > 0 {
		return c.Parallelism
	}
	return DefaultParallelism
}

func (c ChildSet[T, C]) fieldOwner(s *State[T]) string {
	if c.FieldOwner != "" {
		return c.FieldOwner
	}
	return s.controller
}

// childWork carries what the per-child tasks need.
type childWork[T client.Object, C client.Object] struct {
	cs     ChildSet[T, C]
	s      *State[T]
	labels map[string]string
}

func (w *childWork[T, C]) sync(ctx context.Context, k childKey, d C, gvk schema.GroupVersionKind, live C, has bool) ChildOutcome {
	ck := childRef{set: w.cs.Name, gvk: gvk, key: k}
	if has {
		w.s.children.seen(ck)
		return w.repair(ctx, ck, d, live)
	}
	// Not among the owned children, which come from a cache that may be
	// label-filtered or stale: an unmanaged object with this name must never be
	// overwritten by accident.
	if w.cs.Exact != nil && !w.s.children.pending(ck) {
		// Wholly owned children: one POST of the desired object. A POST never
		// overwrites, so only when the name is taken (AlreadyExists) is the object
		// read and looked at below. A child this reconciler created a moment ago
		// that the cache does not show yet is read instead (childMemos).
		if o, exists := w.create(ctx, ck, d); !exists {
			return o
		}
	}
	// Look at the API server (the uncached reader) before writing. Without Exact a
	// missing child is created with server-side apply, so that FieldOwner owns its
	// fields as an apply manager (later applies then remove fields no longer
	// desired).
	existing, err := w.get(ctx, k, d, gvk)
	if apierrors.IsNotFound(err) {
		if w.cs.Exact != nil {
			if w.s.children.pending(ck) {
				// Created by us, deleted since: create it again.
				w.s.children.seen(ck)
				if o, exists := w.create(ctx, ck, d); !exists {
					return o
				}
			}
			// The POST found the name taken, and the object is gone by now: a
			// concurrent delete; the next reconcile creates the child.
			return failed(k, fmt.Errorf("%s %s was deleted while being created: %w", gvk.Kind, k, err))
		}
		return w.apply(ctx, k, d, gvk, true, ChildCreated)
	}
	if err != nil {
		w.metric("get", "error")
		return failed(k, err)
	}
	if hasLabels(existing, w.labels) {
		// Ours, but the cache has not caught up yet.
		return w.repair(ctx, ck, d, existing)
	}
	action := ConflictSkip
	if w.cs.OnConflict != nil {
		action = w.cs.OnConflict(ctx, w.s, d, existing)
	}
	switch action {
	case ConflictAdopt:
		o := w.apply(ctx, k, d, gvk, false, ChildUpdated)
		if o.Action == ChildFailed && apierrors.IsConflict(o.Err) {
			w.s.Log.V(1).Info("adopting child failed on field conflicts", "child", k.String(), "kind", gvk.Kind)
			return ChildOutcome{Key: k, Action: ChildConflict, Err: o.Err, Reason: ReasonFieldConflict, Message: o.Message}
		}
		return o
	case ConflictOverwrite:
		return w.apply(ctx, k, d, gvk, true, ChildUpdated)
	default:
		return ChildOutcome{Key: k, Action: ChildConflict, Reason: ReasonUnmanaged,
			Message: fmt.Sprintf("%s %s exists and is not managed by %s", gvk.Kind, k, w.cs.fieldOwner(w.s))}
	}
}

// repair brings an owned child in line: nothing if it matches (and, with Exact, is
// exact), else one write: an Update with Exact, an apply otherwise.
func (w *childWork[T, C]) repair(ctx context.Context, ck childRef, d C, live C) ChildOutcome {
	k, gvk := ck.key, ck.gvk
	if h := w.cs.HashAnnotation; h != "" && d.GetAnnotations()[h] == live.GetAnnotations()[h] &&
		w.s.children.ours(ck, live.GetResourceVersion()) {
		// live is what our last write left, for this same desired state (childMemos).
		return ChildOutcome{Key: k, Action: ChildUnchanged}
	}
	matches := w.matches(d, live)
	if matches && (w.cs.Exact == nil || w.cs.Exact(d, live)) {
		return ChildOutcome{Key: k, Action: ChildUnchanged}
	}
	if w.s.Log.V(1).Enabled() {
		field := "fields not desired"
		if !matches {
			field = Mismatch(d, live, w.cs.fieldOwner(w.s))
		}
		w.s.Log.V(1).Info("child differs from its desired state", "child", k.String(), "kind", gvk.Kind, "field", field)
	}
	if w.cs.Exact != nil {
		return w.replace(ctx, ck, d, live)
	}
	return w.apply(ctx, k, d, gvk, true, ChildUpdated)
}

// replace writes desired over live with a full-object Update (see ChildSet.Exact).
func (w *childWork[T, C]) replace(ctx context.Context, ck childRef, d C, live C) ChildOutcome {
	k, gvk := ck.key, ck.gvk
	obj, err := w.replacement(d, gvk, live)
	if err != nil {
		return failed(k, err)
	}
	if err := w.s.Client.Update(ctx, obj, client.FieldOwner(w.cs.fieldOwner(w.s))); err != nil {
		w.metric("update", resultOf(err))
		w.s.Log.V(1).Info("replacing child failed", "child", k.String(), "kind", gvk.Kind, "error", err.Error())
		return failed(k, err)
	}
	w.metric("update", "success")
	w.s.children.wrote(ck, obj.GetResourceVersion(), false)
	w.s.Log.V(1).Info("child replaced", "child", k.String(), "kind", gvk.Kind)
	return ChildOutcome{Key: k, Action: ChildUpdated}
}

// replacement builds the object sent by replace: live's lifecycle metadata and
// status, everything else from desired.
func (w *childWork[T, C]) replacement(d C, gvk schema.GroupVersionKind, live C) (C, error) {
	if obj, ok := typedReplacement(d, live); ok {
		return obj, nil
	}
	return w.unstructuredReplacement(d, gvk, live)
}

// unstructuredReplacement is replacement for any child, through unstructured maps.
func (w *childWork[T, C]) unstructuredReplacement(d C, gvk schema.GroupVersionKind, live C) (C, error) {
	var zero C
	want, err := applyPayload(d, gvk)
	if err != nil {
		return zero, err
	}
	l, err := toUnstructuredMap(live)
	if err != nil {
		return zero, err
	}
	l = runtime.DeepCopyJSON(l)
	out := make(map[string]any, len(want.Object)+2)
	for k, v := range want.Object {
		if k != "metadata" {
			out[k] = v
		}
	}
	if st, ok := l["status"]; ok {
		out["status"] = st
	}
	md, _ := l["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["labels"] = stringMap(withReserved(want.GetLabels(), live.GetLabels()))
	md["annotations"] = stringMap(withReserved(want.GetAnnotations(), live.GetAnnotations()))
	out["metadata"] = md
	obj, err := w.newChild(d, gvk)
	if err != nil {
		return zero, err
	}
	if u, ok := any(obj).(*unstructured.Unstructured); ok {
		u.Object = out
		u.SetGroupVersionKind(gvk)
		return obj, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(out, obj); err != nil {
		return zero, err
	}
	return obj, nil
}

// withReserved returns want plus the keys of live in Kubernetes-reserved domains
// that want does not set (nil when empty).
func withReserved(want, live map[string]string) map[string]string {
	out := make(map[string]string, len(want))
	for k, v := range want {
		out[k] = v
	}
	for k, v := range live {
		if _, ok := want[k]; !ok && reservedKey(k) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// stringMap is m as an unstructured value (nil when m is).
func stringMap(m map[string]string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (w *childWork[T, C]) matches(d, live C) bool {
	if w.cs.Matches != nil {
		return w.cs.Matches(d, live)
	}
	if h := w.cs.HashAnnotation; h != "" && d.GetAnnotations()[h] != live.GetAnnotations()[h] {
		// The desired state changed since live was written (or someone changed the
		// hash): a write is due, no need to compare every field.
		return false
	}
	return DefaultMatches(d, live, w.cs.fieldOwner(w.s))
}

// create POSTs the desired child (see ChildSet.Exact). exists is true, and the
// outcome empty, when an object with the child's name already exists: the caller
// then reads it and decides.
func (w *childWork[T, C]) create(ctx context.Context, ck childRef, d C) (o ChildOutcome, exists bool) {
	k, gvk := ck.key, ck.gvk
	obj, err := w.creation(d, gvk)
	if err != nil {
		return failed(k, err), false
	}
	err = w.s.Client.Create(ctx, obj, client.FieldOwner(w.cs.fieldOwner(w.s)))
	switch {
	case apierrors.IsAlreadyExists(err):
		w.metric("create", "exists")
		return ChildOutcome{}, true
	case err != nil:
		w.metric("create", resultOf(err))
		w.s.Log.V(1).Info("creating child failed", "child", k.String(), "kind", gvk.Kind, "error", err.Error())
		return failed(k, err), false
	}
	w.metric("create", "success")
	w.s.children.wrote(ck, obj.GetResourceVersion(), true)
	w.s.Log.V(1).Info("child created", "child", k.String(), "kind", gvk.Kind)
	return ChildOutcome{Key: k, Action: ChildCreated}, false
}

// creation builds the object sent by create: the apply payload (desired without
// server-populated metadata and status) as a fresh object of d's Go type, so d is
// never modified by the response.
func (w *childWork[T, C]) creation(d C, gvk schema.GroupVersionKind) (C, error) {
	if obj, ok := typedCreation(d); ok {
		return obj, nil
	}
	return w.unstructuredCreation(d, gvk)
}

// unstructuredCreation is creation for any child, through its apply payload.
func (w *childWork[T, C]) unstructuredCreation(d C, gvk schema.GroupVersionKind) (C, error) {
	var zero C
	want, err := applyPayload(d, gvk)
	if err != nil {
		return zero, err
	}
	obj, err := w.newChild(d, gvk)
	if err != nil {
		return zero, err
	}
	if u, ok := any(obj).(*unstructured.Unstructured); ok {
		u.Object = want.Object
		return obj, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(want.Object, obj); err != nil {
		return zero, err
	}
	return obj, nil
}

// get reads the object with the desired child's name through the uncached reader.
func (w *childWork[T, C]) get(ctx context.Context, k childKey, d C, gvk schema.GroupVersionKind) (C, error) {
	var zero C
	c, err := w.newChild(d, gvk)
	if err != nil {
		return zero, err
	}
	if err := w.s.Reader.Get(ctx, k, c); err != nil {
		return zero, err
	}
	return c, nil
}

// newChild returns an empty object of d's Go type for gvk.
func (w *childWork[T, C]) newChild(d C, gvk schema.GroupVersionKind) (C, error) {
	var zero C
	var fresh client.Object
	if _, ok := any(d).(*unstructured.Unstructured); ok {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		fresh = u
	} else {
		o, err := w.s.scheme.New(gvk)
		if err != nil {
			return zero, err
		}
		co, ok := o.(client.Object)
		if !ok {
			return zero, fmt.Errorf("%s is not a client.Object", gvk)
		}
		fresh = co
	}
	c, ok := fresh.(C)
	if !ok {
		return zero, fmt.Errorf("cannot make an empty %T for %s", d, gvk)
	}
	return c, nil
}

func (w *childWork[T, C]) apply(ctx context.Context, k childKey, d C, gvk schema.GroupVersionKind, force bool, action ChildAction) ChildOutcome {
	u, err := applyPayload(d, gvk)
	if err != nil {
		return failed(k, err)
	}
	opts := []client.ApplyOption{client.FieldOwner(w.cs.fieldOwner(w.s))}
	if force {
		opts = append(opts, client.ForceOwnership)
	}
	if err := w.s.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
		w.metric("apply", resultOf(err))
		w.s.Log.V(1).Info("applying child failed", "child", k.String(), "kind", gvk.Kind, "error", err.Error())
		return failed(k, err)
	}
	w.metric("apply", "success")
	w.s.Log.V(1).Info("child applied", "child", k.String(), "kind", gvk.Kind, "action", string(action))
	return ChildOutcome{Key: k, Action: action}
}

func (w *childWork[T, C]) prune(ctx context.Context, k childKey, l C) ChildOutcome {
	action := PruneDelete
	if w.cs.Prune != nil {
		action = w.cs.Prune(l)
	}
	switch action {
	case PruneKeep:
		return ChildOutcome{Key: k, Action: ChildKept}
	case PruneOrphan:
		drop := make(map[string]any, len(w.labels))
		for lk := range w.labels {
			drop[lk] = nil
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": drop}})
		err := w.s.Client.Patch(ctx, l, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(w.cs.fieldOwner(w.s)))
		if err != nil && !apierrors.IsNotFound(err) {
			w.metric("orphan", resultOf(err))
			return failed(k, err)
		}
		w.metric("orphan", "success")
		w.s.Log.V(1).Info("child orphaned", "child", k.String())
		w.forget(k, l)
		return ChildOutcome{Key: k, Action: ChildOrphaned}
	default:
		uid := l.GetUID()
		opts := []client.DeleteOption{client.PropagationPolicy(metav1.DeletePropagationBackground)}
		if uid != "" {
			opts = append(opts, client.Preconditions{UID: &uid})
		}
		if err := w.s.Client.Delete(ctx, l, opts...); err != nil && !apierrors.IsNotFound(err) {
			w.metric("delete", resultOf(err))
			return failed(k, err)
		}
		w.metric("delete", "success")
		w.s.Log.V(1).Info("child deleted", "child", k.String())
		w.forget(k, l)
		return ChildOutcome{Key: k, Action: ChildDeleted}
	}
}

// forget drops what is remembered of a pruned child.
func (w *childWork[T, C]) forget(k childKey, l C) {
	if gvk, err := apiutil.GVKForObject(l, w.s.scheme); err == nil {
		w.s.children.forget(childRef{set: w.cs.Name, gvk: gvk, key: k})
	}
}

func (w *childWork[T, C]) metric(verb, result string) {
	childOperations.WithLabelValues(w.s.controller, w.cs.Name, verb, result).Inc()
}

// DefaultMatches is the default ChildSet.Matches: every field of desired (as
// unstructured, ignoring metadata other than labels and annotations) is present and
// equal in live, so fields defaulted by the API server never cause an update; and,
// when live carries managedFields, every field fieldOwner applied before is still
// desired (otherwise a new apply is needed to remove it).
func DefaultMatches(desired, live client.Object, fieldOwner string) bool {
	return Mismatch(desired, live, fieldOwner) == ""
}

// Mismatch explains why DefaultMatches is false: the path of the first desired field
// missing or different in live (e.g. ".data.color"), or a note that a field applied
// before is no longer desired. It returns "" when they match. It names fields, never
// values, so it is safe to log for Secrets.
func Mismatch(desired, live client.Object, fieldOwner string) string {
	d, err := toUnstructuredMap(desired)
	if err != nil {
		return "desired: " + err.Error()
	}
	d = runtime.DeepCopyJSON(d)
	pruneNulls(d)
	l, err := toUnstructuredMap(live)
	if err != nil {
		return "live: " + err.Error()
	}
	if p := mismatchPath(comparablePart(d), l, ""); p != "" {
		return p
	}
	if !ownedFieldsCovered(l, d, fieldOwner) {
		return "a field applied by " + fieldOwner + " is no longer desired"
	}
	return ""
}

func stampLabels[C client.Object](d C, labels map[string]string) C {
	c := d.DeepCopyObject().(C)
	merged := make(map[string]string, len(labels)+len(c.GetLabels()))
	for k, v := range c.GetLabels() {
		merged[k] = v
	}
	for k, v := range labels {
		merged[k] = v
	}
	c.SetLabels(merged)
	return c
}

// stampHash sets annotation key on d (already a private copy) to a hash of d's
// desired state without that annotation: the JSON of what a create would send
// (typedCreation: encoding/json is deterministic for typed objects and, unlike the
// unstructured converter, fast with []byte fields), or of the apply payload for
// unstructured children.
func stampHash[C client.Object](d C, gvk schema.GroupVersionKind, key string) (C, error) {
	ann := d.GetAnnotations()
	delete(ann, key)
	d.SetAnnotations(ann)
	var payload any
	if tc, ok := typedCreation(d); ok {
		payload = tc
	} else {
		u, err := applyPayload(d, gvk)
		if err != nil {
			return d, err
		}
		payload = u.Object // map keys are sorted: deterministic
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return d, err
	}
	sum := sha256.Sum256(data)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[key] = hex.EncodeToString(sum[:16])
	d.SetAnnotations(ann)
	return d, nil
}

func hasLabels(o client.Object, labels map[string]string) bool {
	got := o.GetLabels()
	for k, v := range labels {
		if got[k] != v {
			return false
		}
	}
	return true
}

func failed(k childKey, err error) ChildOutcome {
	return ChildOutcome{Key: k, Action: ChildFailed, Err: err, Reason: string(apierrors.ReasonForError(err)), Message: err.Error()}
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

func summarize(os []ChildOutcome) string {
	const max = 3
	parts := make([]string, 0, max+1)
	for i, o := range os {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(os)-max))
			break
		}
		msg := o.Message
		if msg == "" {
			msg = o.Reason
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", o.Key, msg))
	}
	return strings.Join(parts, "; ")
}

// runBounded runs tasks with at most n at a time and returns their outcomes in task order.
func runBounded(ctx context.Context, n int, tasks []func(context.Context) ChildOutcome) []ChildOutcome {
	out := make([]ChildOutcome, len(tasks))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, t := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = t(ctx)
		}()
	}
	wg.Wait()
	return out
}
