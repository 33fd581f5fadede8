package reconciler_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

// staleReads serves a saved copy of the primary instead of the stored one while
// set: a cache that has not yet shown the reconciler's own status write.
type staleReads struct{ primary *Widget }

// staleReconciler builds h's reconciler over env, its reads of the primary served
// from the returned staleReads while that holds a primary.
func staleReconciler(t *testing.T, h rt.Harness[*Widget], env *rt.Env) (reconcile.Reconciler, *staleReads) {
	t.Helper()
	stale := &staleReads{}
	deps := env.Deps()
	deps.Client = interceptor.NewClient(env.Client, stale.funcs())
	r, err := h.Controller().BuildWith(deps)
	if err != nil {
		t.Fatal(err)
	}
	return r, stale
}

func (s *staleReads) funcs() interceptor.Funcs {
	return interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if w, ok := obj.(*Widget); ok && s.primary != nil && key == wKey {
			*w = *s.primary.DeepCopy()
			return nil
		}
		return c.Get(ctx, key, obj, opts...)
	}}
}

// TestStaleCacheStatusWriteSkipped: a reconcile that starts from the primary as it
// was before our own status write computes the same status again; it writes nothing
// and emits no event. Once the cache shows any newer version the memo is forgotten,
// so a status changed by someone else afterwards is repaired.
func TestStaleCacheStatusWriteSkipped(t *testing.T) {
	h := harness(controllerWith(configMapSet()))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	r, stale := staleReconciler(t, h, env)
	run := func(name string) rt.Calls {
		t.Helper()
		env.Counter.Reset()
		env.Recorder.Reset()
		if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return env.Counter.Calls().WritesOnly()
	}
	before := &Widget{}
	if err := env.Fake.Get(context.Background(), wKey, before); err != nil {
		t.Fatal(err)
	}

	if c := run("first"); c != (rt.Calls{Apply: 1, StatusPatch: 1}) {
		t.Fatalf("first reconcile: %s", c)
	}
	if n := len(env.Recorder.Events()); n != 1 {
		t.Fatalf("first reconcile: %d events", n)
	}

	// The cache still shows the primary as it was before the status write, twice.
	stale.primary = before
	for _, name := range []string{"stale", "stale again"} {
		if c := run(name); c.Writes() != 0 {
			t.Fatalf("%s: redundant writes %s", name, c)
		}
		if ev := env.Recorder.Events(); len(ev) != 0 {
			t.Fatalf("%s: redundant events %v", name, ev)
		}
	}

	// The cache catches up: normal diff, nothing to write; the memo is gone.
	stale.primary = nil
	if c := run("caught up"); c.Writes() != 0 {
		t.Fatalf("caught up: %s", c)
	}

	// Someone clears the status: repaired, with the event.
	cur := &Widget{}
	if err := env.Fake.Get(context.Background(), wKey, cur); err != nil {
		t.Fatal(err)
	}
	cur.Status = WidgetStatus{}
	if err := env.Fake.Status().Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	if c := run("repair"); c != (rt.Calls{StatusPatch: 1}) {
		t.Fatalf("repair: %s", c)
	}
	if ev := env.Recorder.Events(); len(ev) != 1 {
		t.Fatalf("repair: events %v", ev)
	}

	// The memo was forgotten on "caught up": the pre-write version is no longer
	// recognised as ours, so reading it again is diffed normally and written.
	stale.primary = before
	if c := run("old version after the memo is gone"); c.StatusPatch != 1 {
		t.Fatalf("old version: %s", c)
	}
}

// TestStaleCacheDifferentStatusWritten: a stale read whose computed status differs
// from what we last wrote is a real change and is written.
func TestStaleCacheDifferentStatusWritten(t *testing.T) {
	h := harness(controllerWith(configMapSet()))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	r, stale := staleReconciler(t, h, env)
	before := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, before)
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	// Same stale version, but the child now conflicts: a different status.
	if err := env.Fake.Delete(context.Background(), ownedCM("a", nil)); err != nil {
		t.Fatal(err)
	}
	if err := env.Fake.Create(context.Background(), unmanagedCM("a", blue)); err != nil {
		t.Fatal(err)
	}
	stale.primary = before
	env.Counter.Reset()
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	if c := env.Counter.Calls(); c.StatusPatch != 1 {
		t.Fatalf("changed status not written: %s", c)
	}
	w := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, w)
	if c := meta.FindStatusCondition(w.Status.Conditions, reconciler.ConditionReady); c == nil || c.Reason != reconciler.ReasonChildConflict {
		t.Fatalf("ready = %+v", c)
	}
}

// TestStatusMemoForgottenOnDelete: a primary that is gone drops its memo.
func TestStatusMemoForgottenOnDelete(t *testing.T) {
	h := harness(controllerWith(configMapSet()))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	r, stale := staleReconciler(t, h, env)
	before := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, before)
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	cur := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, cur)
	cur.Finalizers = nil
	_ = env.Fake.Update(context.Background(), cur)
	if err := env.Fake.Delete(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	// Recreated with the very same resourceVersion string (as a fake may do): not
	// mistaken for a stale read of the old object.
	if err := env.Fake.Create(context.Background(), withFinalizer(widget("w", blue, "a"))); err != nil {
		t.Fatal(err)
	}
	stale.primary = before
	env.Counter.Reset()
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	if c := env.Counter.Calls(); c.StatusPatch != 1 {
		t.Fatalf("after delete: %s", c)
	}
}

// TestStaleCacheKeptFieldNotReverted: a status field a reconcile keeps rather than
// recomputes (like a last-sync time, set only when children were written) is not
// reverted by a reconcile that starts from the cached primary as it was before our
// own write, and no status is written again.
func TestStaleCacheKeptFieldNotReverted(t *testing.T) {
	h := harness(func() *reconciler.Builder[*Widget] {
		cs := configMapSet().Step()
		return reconciler.For("widget", func() *Widget { return &Widget{} }).
			Steps(reconciler.Finalizer("finalizer", testFinalizer, cs.Release), cs).
			Status(func(ctx context.Context, s *reconciler.State[*Widget]) {
				r, _ := cs.Report(s)
				s.Object.Status.Synced = r.Synced()
				if r.Count(reconciler.ChildCreated)+r.Count(reconciler.ChildUpdated) > 0 {
					s.Object.Status.LastWrite++
				}
			})
	})
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	r, stale := staleReconciler(t, h, env)
	before := &Widget{}
	if err := env.Fake.Get(context.Background(), wKey, before); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	stale.primary = before // the cache has not shown the status write
	env.Counter.Reset()
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	if c := env.Counter.Calls().WritesOnly(); c != (rt.Calls{}) {
		t.Errorf("a reconcile from the stale primary wrote: %s", c)
	}
	got := &Widget{}
	if err := env.Fake.Get(context.Background(), wKey, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.LastWrite != 1 || got.Status.Synced != 1 {
		t.Errorf("status = %+v, want lastWrite 1 and synced 1", got.Status)
	}
}

// TestStaleCacheAfterOwnFinalizerPatch: the first reconcile of a new primary adds
// the finalizer (one resourceVersion) and then writes status (the next). A reconcile
// that reads the primary as the finalizer patch left it still reads it from before
// the status write: nothing is written again and no event repeats.
func TestStaleCacheAfterOwnFinalizerPatch(t *testing.T) {
	var afterFinalizer *Widget
	funcs := interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
		if afterFinalizer == nil {
			afterFinalizer = &Widget{}
			if err := c.Get(ctx, wKey, afterFinalizer); err != nil {
				return err
			}
		}
		return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
	}}
	h := harness(controllerWith(configMapSet()))
	env := h.NewEnv([]client.Object{widget("w", blue, "a")}, funcs)
	r, stale := staleReconciler(t, h, env)
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	if afterFinalizer == nil || len(afterFinalizer.Finalizers) == 0 || afterFinalizer.Status.Synced != 0 {
		t.Fatalf("primary before the status write: %+v", afterFinalizer)
	}
	stale.primary = afterFinalizer
	env.Counter.Reset()
	env.Recorder.Reset()
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		t.Fatal(err)
	}
	if c := env.Counter.Calls().WritesOnly(); c != (rt.Calls{}) {
		t.Errorf("a reconcile from the finalizer-patched primary wrote: %s", c)
	}
	if ev := env.Recorder.Events(); len(ev) != 0 {
		t.Errorf("events repeated: %v", ev)
	}
}
