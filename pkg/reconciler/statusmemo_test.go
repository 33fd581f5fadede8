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
	stale := &staleReads{}
	deps := env.Deps()
	deps.Client = interceptor.NewClient(env.Client, stale.funcs())
	r, err := h.Controller().BuildWith(deps)
	if err != nil {
		t.Fatal(err)
	}
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
	stale := &staleReads{}
	deps := env.Deps()
	deps.Client = interceptor.NewClient(env.Client, stale.funcs())
	r, err := h.Controller().BuildWith(deps)
	if err != nil {
		t.Fatal(err)
	}
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
	stale := &staleReads{}
	deps := env.Deps()
	deps.Client = interceptor.NewClient(env.Client, stale.funcs())
	r, err := h.Controller().BuildWith(deps)
	if err != nil {
		t.Fatal(err)
	}
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
