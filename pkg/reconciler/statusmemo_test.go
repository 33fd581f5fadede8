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

// staleCase is h's reconciler over an Env whose reads of the primary are served
// from stale while that holds a primary.
type staleCase struct {
	t     *testing.T
	env   *rt.Env
	r     reconcile.Reconciler
	stale staleReads
}

func newStaleCase(t *testing.T, h rt.Harness[*Widget], objects []client.Object, funcs interceptor.Funcs) *staleCase {
	t.Helper()
	c := &staleCase{t: t, env: h.NewEnv(objects, funcs)}
	deps := c.env.Deps()
	deps.Client = interceptor.NewClient(c.env.Client, c.stale.funcs())
	r, err := h.Controller().BuildWith(deps)
	if err != nil {
		t.Fatal(err)
	}
	c.r = r
	return c
}

// reconcile runs one reconcile of the primary and returns the writes it made; the
// recorder holds its events only.
func (c *staleCase) reconcile(name string) rt.Calls {
	c.t.Helper()
	c.env.Counter.Reset()
	c.env.Recorder.Reset()
	if _, err := c.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: wKey}); err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	return c.env.Counter.Calls().WritesOnly()
}

// stored reads the primary as the API server has it.
func (c *staleCase) stored() *Widget {
	c.t.Helper()
	w := &Widget{}
	if err := c.env.Fake.Get(context.Background(), wKey, w); err != nil {
		c.t.Fatal(err)
	}
	return w
}

// TestStaleCacheStatusWriteSkipped: a reconcile that starts from the primary as it
// was before our own status write computes the same status again; it writes nothing
// and emits no event. Once the cache shows any newer version the memo is forgotten,
// so a status changed by someone else afterwards is repaired.
func TestStaleCacheStatusWriteSkipped(t *testing.T) {
	c := newStaleCase(t, harness(controllerWith(configMapSet())), []client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	before := c.stored()

	if w := c.reconcile("first"); w != (rt.Calls{Apply: 1, StatusPatch: 1}) {
		t.Fatalf("first reconcile: %s", w)
	}
	if n := len(c.env.Recorder.Events()); n != 1 {
		t.Fatalf("first reconcile: %d events", n)
	}

	// The cache still shows the primary as it was before the status write, twice.
	c.stale.primary = before
	for _, name := range []string{"stale", "stale again"} {
		if w := c.reconcile(name); w.Writes() != 0 {
			t.Fatalf("%s: redundant writes %s", name, w)
		}
		if ev := c.env.Recorder.Events(); len(ev) != 0 {
			t.Fatalf("%s: redundant events %v", name, ev)
		}
	}

	// The cache catches up: normal diff, nothing to write; the memo is gone.
	c.stale.primary = nil
	if w := c.reconcile("caught up"); w.Writes() != 0 {
		t.Fatalf("caught up: %s", w)
	}

	// Someone clears the status: repaired, with the event.
	cur := c.stored()
	cur.Status = WidgetStatus{}
	if err := c.env.Fake.Status().Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	if w := c.reconcile("repair"); w != (rt.Calls{StatusPatch: 1}) {
		t.Fatalf("repair: %s", w)
	}
	if ev := c.env.Recorder.Events(); len(ev) != 1 {
		t.Fatalf("repair: events %v", ev)
	}

	// The memo was forgotten on "caught up": the pre-write version is no longer
	// recognised as ours, so reading it again is diffed normally and written.
	c.stale.primary = before
	if w := c.reconcile("old version after the memo is gone"); w.StatusPatch != 1 {
		t.Fatalf("old version: %s", w)
	}
}

// TestStaleCacheDifferentStatusWritten: a stale read whose computed status differs
// from what we last wrote is a real change and is written.
func TestStaleCacheDifferentStatusWritten(t *testing.T) {
	c := newStaleCase(t, harness(controllerWith(configMapSet())), []client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	before := c.stored()
	c.reconcile("first")
	// Same stale version, but the child now conflicts: a different status.
	if err := c.env.Fake.Delete(context.Background(), ownedCM("a", nil)); err != nil {
		t.Fatal(err)
	}
	if err := c.env.Fake.Create(context.Background(), unmanagedCM("a", blue)); err != nil {
		t.Fatal(err)
	}
	c.stale.primary = before
	if w := c.reconcile("stale"); w.StatusPatch != 1 {
		t.Fatalf("changed status not written: %s", w)
	}
	if cond := meta.FindStatusCondition(c.stored().Status.Conditions, reconciler.ConditionReady); cond == nil || cond.Reason != reconciler.ReasonChildConflict {
		t.Fatalf("ready = %+v", cond)
	}
}

// TestStatusMemoForgottenOnDelete: a primary that is gone drops its memo.
func TestStatusMemoForgottenOnDelete(t *testing.T) {
	c := newStaleCase(t, harness(controllerWith(configMapSet())), []client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	before := c.stored()
	c.reconcile("first")
	cur := c.stored()
	cur.Finalizers = nil
	_ = c.env.Fake.Update(context.Background(), cur)
	if err := c.env.Fake.Delete(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	c.reconcile("deleted")
	// Recreated with the very same resourceVersion string (as a fake may do): not
	// mistaken for a stale read of the old object.
	if err := c.env.Fake.Create(context.Background(), withFinalizer(widget("w", blue, "a"))); err != nil {
		t.Fatal(err)
	}
	c.stale.primary = before
	if w := c.reconcile("recreated"); w.StatusPatch != 1 {
		t.Fatalf("after delete: %s", w)
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
	c := newStaleCase(t, h, []client.Object{withFinalizer(widget("w", blue, "a"))}, interceptor.Funcs{})
	before := c.stored()
	c.reconcile("first")
	c.stale.primary = before // the cache has not shown the status write
	if w := c.reconcile("stale"); w != (rt.Calls{}) {
		t.Errorf("a reconcile from the stale primary wrote: %s", w)
	}
	if got := c.stored(); got.Status.LastWrite != 1 || got.Status.Synced != 1 {
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
	c := newStaleCase(t, harness(controllerWith(configMapSet())), []client.Object{widget("w", blue, "a")}, funcs)
	c.reconcile("first")
	if afterFinalizer == nil || len(afterFinalizer.Finalizers) == 0 || afterFinalizer.Status.Synced != 0 {
		t.Fatalf("primary before the status write: %+v", afterFinalizer)
	}
	c.stale.primary = afterFinalizer
	if w := c.reconcile("stale"); w != (rt.Calls{}) {
		t.Errorf("a reconcile from the finalizer-patched primary wrote: %s", w)
	}
	if ev := c.env.Recorder.Events(); len(ev) != 0 {
		t.Errorf("events repeated: %v", ev)
	}
}
