package reconciler_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// strippingLister lists like a cache with TransformStripManagedFields.
type strippingLister struct{ client.Reader }

func (l strippingLister) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := l.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	for i := range list.(*corev1.ConfigMapList).Items {
		list.(*corev1.ConfigMapList).Items[i].ManagedFields = nil
	}
	return nil
}

// TestHashAnnotation: with children listed without managedFields, a key removed
// from the desired state is only noticed with HashAnnotation.
func TestHashAnnotation(t *testing.T) {
	const hashKey = "test.courier.dev/desired-hash"
	for _, withHash := range []bool{false, true} {
		cs := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.Lister = func(s *reconciler.State[*Widget]) client.Reader { return strippingLister{s.Client} }
			if withHash {
				cs.HashAnnotation = hashKey
			}
		})
		h := harness(controllerWith(cs))
		env := h.NewEnv([]client.Object{widget("w", map[string]string{"a": "1", "b": "2"}, "x")}, interceptor.Funcs{})
		if r := h.Reconcile(t, env, wKey); r.Err != nil {
			t.Fatal(r.Err)
		}
		cm := getCM(t, env, "x")
		if withHash != (cm.Annotations[hashKey] != "") {
			t.Fatalf("hash annotation = %q (withHash %v)", cm.Annotations[hashKey], withHash)
		}
		env.Counter.Reset()
		if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
			t.Fatalf("withHash=%v: not steady: %v %s", withHash, r.Err, env.Counter.Calls())
		}
		w := &Widget{}
		_ = env.Fake.Get(context.Background(), wKey, w)
		w.Spec.Data = map[string]string{"a": "1"}
		_ = env.Fake.Update(context.Background(), w)
		env.Counter.Reset()
		if r := h.Reconcile(t, env, wKey); r.Err != nil {
			t.Fatal(r.Err)
		}
		removed := len(getCM(t, env, "x").Data) == 1
		if removed != withHash {
			t.Fatalf("withHash=%v: key removed = %v (%s)", withHash, removed, env.Counter.Calls())
		}
		if withHash {
			env.Counter.Reset()
			if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
				t.Fatalf("not steady after hash change: %v %s", r.Err, env.Counter.Calls())
			}
		}
	}
}
