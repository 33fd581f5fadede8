package reconciler

import (
	"context"
	"encoding/json"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The writes a ChildSet makes, one per call: each records its metric and log line,
// and what it wrote in the child memos.

// create POSTs the desired child (see ChildSet.Exact). exists is true, and the
// outcome empty, when an object with the child's name already exists: the caller
// then reads it and decides.
func (w *childWork[T, C]) create(ctx context.Context, ref childRef, d C) (o ChildOutcome, exists bool) {
	obj, err := creation(w.s.scheme, d, ref.gvk)
	if err != nil {
		return failed(ref, err), false
	}
	err = w.s.Client.Create(ctx, obj, client.FieldOwner(w.step.fieldOwner(w.s)))
	switch {
	case apierrors.IsAlreadyExists(err):
		w.metric("create", "exists")
		return ChildOutcome{}, true
	case err != nil:
		w.metric("create", resultOf(err))
		w.s.Log.V(1).Info("creating child failed", "child", ref.key.String(), "kind", ref.gvk.Kind, "error", err.Error())
		return failed(ref, err), false
	}
	w.metric("create", "success")
	w.s.children.wrote(ref, obj.GetResourceVersion(), "", w.hashOf(d), true)
	w.s.Log.V(1).Info("child created", "child", ref.key.String(), "kind", ref.gvk.Kind)
	return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildCreated}, false
}

// replace writes desired over live with a full-object Update (see ChildSet.Exact).
func (w *childWork[T, C]) replace(ctx context.Context, ref childRef, d C, live C) ChildOutcome {
	obj, err := replacement(w.s.scheme, d, ref.gvk, live)
	if err != nil {
		return failed(ref, err)
	}
	if err := w.s.Client.Update(ctx, obj, client.FieldOwner(w.step.fieldOwner(w.s))); err != nil {
		w.metric("update", resultOf(err))
		w.s.Log.V(1).Info("replacing child failed", "child", ref.key.String(), "kind", ref.gvk.Kind, "error", err.Error())
		return failed(ref, err)
	}
	w.metric("update", "success")
	w.s.children.wrote(ref, obj.GetResourceVersion(), live.GetResourceVersion(), w.hashOf(d), false)
	w.s.Log.V(1).Info("child replaced", "child", ref.key.String(), "kind", ref.gvk.Kind)
	return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: ChildUpdated}
}

// apply writes desired with server-side apply; force takes over fields other
// managers own.
func (w *childWork[T, C]) apply(ctx context.Context, ref childRef, d C, force bool, action ChildAction) ChildOutcome {
	u, err := applyPayload(d, ref.gvk)
	if err != nil {
		return failed(ref, err)
	}
	opts := []client.ApplyOption{client.FieldOwner(w.step.fieldOwner(w.s))}
	if force {
		opts = append(opts, client.ForceOwnership)
	}
	if err := w.s.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
		w.metric("apply", resultOf(err))
		w.s.Log.V(1).Info("applying child failed", "child", ref.key.String(), "kind", ref.gvk.Kind, "error", err.Error())
		return failed(ref, err)
	}
	w.metric("apply", "success")
	w.s.Log.V(1).Info("child applied", "child", ref.key.String(), "kind", ref.gvk.Kind, "action", string(action))
	return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: action}
}

// get reads the object with the desired child's name through the uncached reader.
func (w *childWork[T, C]) get(ctx context.Context, ref childRef, d C) (C, error) {
	var zero C
	c, err := newChild(w.s.scheme, d, ref.gvk)
	if err != nil {
		return zero, err
	}
	if err := w.s.Reader.Get(ctx, ref.key, c); err != nil {
		return zero, err
	}
	return c, nil
}

// prune deletes or orphans an owned child no longer desired, as Prune says.
func (w *childWork[T, C]) prune(ctx context.Context, ref childRef, l C) ChildOutcome {
	action := PruneDelete
	if w.step.cs.Prune != nil {
		action = w.step.cs.Prune(ctx, w.s, l)
	}
	if action == PruneOrphan {
		// The ownership labels go, and the hash of a desired state nobody keeps any more.
		drop := make(map[string]any, len(w.labels))
		for lk := range w.labels {
			drop[lk] = nil
		}
		md := map[string]any{"labels": drop}
		if h := w.step.cs.HashAnnotation; h != "" {
			md["annotations"] = map[string]any{h: nil}
		}
		patch, _ := json.Marshal(map[string]any{"metadata": md})
		err := w.s.Client.Patch(ctx, l, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(w.step.fieldOwner(w.s)))
		return w.pruned(ref, "orphan", "child orphaned", ChildOrphaned, err)
	}
	uid := l.GetUID()
	opts := []client.DeleteOption{client.PropagationPolicy(metav1.DeletePropagationBackground)}
	if uid != "" {
		opts = append(opts, client.Preconditions{UID: &uid})
	}
	return w.pruned(ref, "delete", "child deleted", ChildDeleted, w.s.Client.Delete(ctx, l, opts...))
}

// pruned records the end of a prune write (verb) that returned err: a child already
// gone counts as done.
func (w *childWork[T, C]) pruned(ref childRef, verb, done string, action ChildAction, err error) ChildOutcome {
	if err != nil && !apierrors.IsNotFound(err) {
		w.metric(verb, resultOf(err))
		return failed(ref, err)
	}
	w.metric(verb, "success")
	w.s.Log.V(1).Info(done, "child", ref.key.String(), "kind", ref.gvk.Kind)
	w.s.children.forget(ref)
	return ChildOutcome{Kind: ref.gvk, Key: ref.key, Action: action}
}

// hashOf is d's HashAnnotation ("" without one).
func (w *childWork[T, C]) hashOf(d C) string {
	if h := w.step.cs.HashAnnotation; h != "" {
		return d.GetAnnotations()[h]
	}
	return ""
}

func (w *childWork[T, C]) metric(verb, result string) {
	w.s.metrics.child(w.s.controller, w.step.cs.Name, verb, result)
}
