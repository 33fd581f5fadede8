package reconciler

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

const eventAction = "Reconcile"

// memos are the reconciler's child memos (Builder.Complete wires its child
// watches to them).
func (r *primaryReconciler[T]) memos() *childMemos { return &r.children }

type primaryReconciler[T client.Object] struct {
	name    string
	newObj  func() T
	steps   sequence[T]
	status  func(ctx context.Context, s *State[T])
	gone    func(ctx context.Context, key types.NamespacedName)
	deps    Deps
	metrics *Metrics
	// written remembers, per primary, the status this reconciler last wrote (see
	// statusMemo).
	written statusMemos
	// children remembers this reconciler's last write of each child (see
	// childMemos).
	children childMemos
	// contests remember children other writers keep rewriting (see Contests).
	contests Contests
}

// Reconcile runs one reconcile of the primary named by req: get, run the steps,
// compute conditions in one place, write status once if it changed, emit events on
// condition transitions, and map the outcome to a result.
func (r *primaryReconciler[T]) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := r.deps.Log
	if log.GetSink() == nil {
		// controller-runtime's logger already names the controller.
		log = logf.FromContext(ctx)
	} else {
		log = log.WithValues("controller", r.name)
	}
	log = log.WithValues("primary", req.NamespacedName.String())
	ctx = logf.IntoContext(ctx, log)

	obj := r.newObj()
	if err := r.deps.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(req.NamespacedName)
			if r.gone != nil {
				r.gone(ctx, req.NamespacedName)
			}
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	r.written.rebase(req.NamespacedName, obj)
	original := obj.DeepCopyObject().(T)
	s := &State[T]{
		Object:     obj,
		Client:     r.deps.Client,
		Reader:     r.deps.Reader,
		Log:        log,
		controller: r.name,
		scheme:     r.deps.Scheme,
		recorder:   r.deps.Recorder,
		metrics:    r.metrics,
		children:   &r.children,
		contests:   &r.contests,
	}

	stepErr := r.steps.Reconcile(ctx, s)
	outcome, after, reason, message := classify(stepErr)
	reason, message = sanitizeReason(reason), Bound(message, MaxConditionMessage)

	if s.deleted {
		// The last finalizer is gone: the primary is being removed, nothing to write.
		r.written.forget(req.NamespacedName)
		log.V(1).Info("primary released")
		return reconcile.Result{}, nil
	}
	if r.status != nil {
		r.status(ctx, s)
	}
	if fr, fm, ok := s.NotReadyReason(); ok && outcome == OutcomeDone {
		r.metrics.notReady(r.name, sanitizeReason(fr))
		if _, hasStatus := any(s.Object).(Object); !hasStatus {
			// No conditions to carry the fact: the log line and the metric are all there is.
			log.Info("not ready", "reason", sanitizeReason(fr), "message", Bound(fm, MaxConditionMessage))
		}
	}
	if gone, err := r.writeConditions(ctx, original, s, outcome, reason, message, stepErr); gone || err != nil {
		return reconcile.Result{}, err
	}

	switch outcome {
	case OutcomeWaiting:
		log.V(1).Info("waiting", "reason", reason, "requeueAfter", after)
		return reconcile.Result{RequeueAfter: after}, nil
	case OutcomeTransient, OutcomeTerminal:
		return reconcile.Result{}, stepErr
	default:
		return reconcile.Result{}, nil
	}
}

// writeConditions computes the conditions and observedGeneration, writes status once
// if it changed and emits the transition event — only for primaries that implement
// Object. Other primaries (built-in kinds without Courier status) get no status
// write and no transition event. gone reports a NotFound on the status write: the
// primary was deleted meanwhile and the reconcile is done.
func (r *primaryReconciler[T]) writeConditions(ctx context.Context, original T, s *State[T], outcome Outcome, reason, message string, stepErr error) (gone bool, err error) {
	obj, ok := any(s.Object).(Object)
	if !ok {
		return false, nil
	}
	transition := setConditions(obj, s, outcome, reason, message)
	written, err := r.writeStatus(ctx, original, s.Object)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		s.Log.V(1).Info("status write failed", "error", err.Error())
		if stepErr != nil && outcome == OutcomeTransient {
			return false, stepErr
		}
		return false, fmt.Errorf("writing status: %w", err)
	}
	if !written {
		// Nothing written, nothing happened: the conditions are the ones already
		// stored (possibly by our own write the cache has not shown yet).
		transition = nil
	}
	if transition != nil && r.deps.Recorder != nil {
		r.deps.Recorder.Eventf(s.Object, nil, transition.eventType, transition.reason, eventAction, "%s", Bound(transition.message, MaxEventNote))
	}
	return false, nil
}

type transitionEvent struct{ eventType, reason, message string }

// setConditions computes Ready, Reconciling and Stalled and the observed generation.
// It returns the event to emit if Ready changed status or reason.
func setConditions[T client.Object](obj Object, s *State[T], outcome Outcome, reason, message string) *transitionEvent {
	gen := obj.GetGeneration()
	conds := obj.GetConditions()
	old := meta.FindStatusCondition(conds, ConditionReady)
	var oldStatus metav1.ConditionStatus
	var oldReason string
	if old != nil {
		oldStatus, oldReason = old.Status, old.Reason
	}

	set := func(t string, st metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&conds, metav1.Condition{Type: t, Status: st, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
	ready := metav1.Condition{Type: ConditionReady}
	switch outcome {
	case OutcomeDone:
		meta.RemoveStatusCondition(&conds, ConditionReconciling)
		meta.RemoveStatusCondition(&conds, ConditionStalled)
		if fr, fm, ok := s.NotReadyReason(); ok {
			ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, sanitizeReason(fr), Bound(fm, MaxConditionMessage)
		} else {
			ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, ReasonSucceeded, "Reconciliation succeeded"
		}
		obj.SetObservedGeneration(gen)
	case OutcomeWaiting:
		meta.RemoveStatusCondition(&conds, ConditionStalled)
		set(ConditionReconciling, metav1.ConditionTrue, reason, message)
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, reason, message
		obj.SetObservedGeneration(gen)
	case OutcomeTerminal:
		meta.RemoveStatusCondition(&conds, ConditionReconciling)
		set(ConditionStalled, metav1.ConditionTrue, reason, message)
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, reason, message
		obj.SetObservedGeneration(gen)
	case OutcomeTransient:
		meta.RemoveStatusCondition(&conds, ConditionStalled)
		set(ConditionReconciling, metav1.ConditionTrue, reason, message)
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, reason, message
		// observedGeneration is left as is: this generation was not fully processed.
	}
	ready.ObservedGeneration = gen
	meta.SetStatusCondition(&conds, ready)
	obj.SetConditions(conds)

	if oldStatus == ready.Status && oldReason == ready.Reason {
		return nil
	}
	ev := &transitionEvent{eventType: "Normal", reason: ready.Reason, message: ready.Message}
	if ready.Status != metav1.ConditionTrue && outcome != OutcomeWaiting {
		ev.eventType = "Warning"
	}
	return ev
}

// writeStatus writes status through the status subresource, as a JSON merge patch of
// status only, and only if status changed semantically. It reports whether it wrote.
//
// A reconcile may start from a cached primary older than this reconciler's own last
// status write (the watch event of that write has not arrived yet): the diff against
// the stale status then finds a change that is already stored. So when the cached
// primary is still at the exact resourceVersion the last write started from, and the
// status computed now equals what that write stored, the write is skipped (see
// statusMemos).
func (r *primaryReconciler[T]) writeStatus(ctx context.Context, original, current T) (bool, error) {
	before, err := statusOf(original)
	if err != nil {
		return false, err
	}
	after, err := statusOf(current)
	if err != nil {
		return false, err
	}
	key := client.ObjectKeyFromObject(current)
	if r.written.stale(key, original, after) {
		return false, nil
	}
	if equality.Semantic.DeepEqual(before, after) {
		return false, nil
	}
	// The whole status, not a diff against the cached one: a typed primary read
	// from the cache cannot tell a field that was never written from one that is
	// zero, so a diff would leave a count that is 0 unwritten (and `kubectl get`
	// would show a blank column). Fields dropped since are removed with null.
	patch, err := json.Marshal(map[string]any{"status": withRemovals(before, after)})
	if err != nil {
		return false, err
	}
	// The cache may show the primary as this reconcile found it, or as its own
	// earlier writes left it (a finalizer added): both are older than this write.
	from := []string{original.GetResourceVersion(), current.GetResourceVersion()}
	if err := r.deps.Client.Status().Patch(ctx, current, client.RawPatch(types.MergePatchType, patch)); err != nil {
		r.written.forget(key)
		return false, err
	}
	r.written.remember(key, from, current.GetGeneration(), after)
	return true, nil
}

// withRemovals is after as a JSON merge patch over before: every field of after,
// and null for every field of before that after no longer has.
func withRemovals(before, after any) any {
	b, okB := before.(map[string]any)
	a, okA := after.(map[string]any)
	if !okA {
		return after
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
		if okB {
			out[k] = withRemovals(b[k], v)
		}
	}
	for k := range b {
		if _, kept := a[k]; !kept {
			out[k] = nil
		}
	}
	return out
}

func statusOf(obj runtime.Object) (any, error) {
	u, err := toUnstructuredMap(obj)
	if err != nil {
		return nil, err
	}
	return u["status"], nil
}
