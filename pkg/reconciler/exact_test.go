package reconciler_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

func exactSet() reconciler.ChildSet[*Widget, *corev1.ConfigMap] {
	return configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
		cs.Exact = func(d, l *corev1.ConfigMap) bool { return reconciler.DefaultExact(d, l) }
	})
}

// tampered is an owned child someone edited by hand: an extra data key, label and
// annotation, a reserved-domain label, and another controller's finalizer.
func tampered(ns string, data map[string]string) *corev1.ConfigMap {
	cm := ownedCM(ns, data)
	cm.Data["added"] = "by hand"
	cm.Labels["added"] = "by-hand"
	cm.Labels["kubernetes.io/reserved"] = "kept"
	cm.Annotations = map[string]string{"added": "by hand"}
	cm.Finalizers = []string{"example.com/other"}
	return cm
}

// TestChildSetExactRepairs: fields another manager added to an owned child are
// removed with exactly one Update (no apply), then the steady state writes nothing.
func TestChildSetExactRepairs(t *testing.T) {
	h := harness(controllerWith(exactSet()))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", map[string]string{"color": "blue"}, "a")),
		tampered("a", map[string]string{"color": "blue"})}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil || r.Outcome != reconciler.OutcomeDone {
		t.Fatalf("reconcile: %v", r.Err)
	}
	if c := env.Counter.Calls().WritesOnly(); c != (rt.Calls{Update: 1, StatusPatch: 1}) {
		t.Fatalf("repair writes: %s", c)
	}
	cm := getCM(t, env, "a")
	if len(cm.Data) != 1 || cm.Data["color"] != "blue" {
		t.Errorf("data = %v", cm.Data)
	}
	if want := map[string]string{widgetLabel: "w", "kubernetes.io/reserved": "kept"}; !equalMaps(cm.Labels, want) {
		t.Errorf("labels = %v, want %v", cm.Labels, want)
	}
	if len(cm.Annotations) != 0 {
		t.Errorf("annotations = %v", cm.Annotations)
	}
	if len(cm.Finalizers) != 1 || cm.Finalizers[0] != "example.com/other" {
		t.Errorf("finalizers = %v (lifecycle metadata must be kept)", cm.Finalizers)
	}

	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("not steady after repair: %v %s", r.Err, env.Counter.Calls())
	}

	// A desired change on a tampered child: still one write, an Update.
	if err := env.Fake.Update(context.Background(), tamperedOver(getCM(t, env, "a"))); err != nil {
		t.Fatal(err)
	}
	w := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, w)
	w.Spec.Data = map[string]string{"color": "red"}
	if err := env.Fake.Update(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	if c := env.Counter.Calls(); c.Update != 1 || c.Apply != 0 {
		t.Fatalf("change + tamper: %s", c)
	}
	if cm := getCM(t, env, "a"); len(cm.Data) != 1 || cm.Data["color"] != "red" {
		t.Errorf("data = %v", cm.Data)
	}
}

func tamperedOver(cm *corev1.ConfigMap) *corev1.ConfigMap {
	cm.Data["added"] = "again"
	return cm
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestChildSetExactCreatesWithApply: an absent child is still created by apply.
func TestChildSetExactCreatesWithApply(t *testing.T) {
	harness(controllerWith(exactSet())).RunCase(t, rt.Case[*Widget]{
		Objects:       []client.Object{withFinalizer(widget("w", blue, "a"))},
		Key:           wKey,
		ExpectWrites:  &rt.Calls{Apply: 1, StatusPatch: 1},
		ExpectOutcome: reconciler.OutcomeDone,
	})
}

// TestChildSetExactConflictIsTransient: an Update conflict (stale cache) is retried.
func TestChildSetExactConflictIsTransient(t *testing.T) {
	funcs := interceptor.Funcs{Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
		return apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, obj.GetName(), nil)
	}}
	harness(controllerWith(exactSet())).RunCase(t, rt.Case[*Widget]{
		Objects:       []client.Object{withFinalizer(widget("w", blue, "a")), tampered("a", map[string]string{"color": "blue"})},
		Funcs:         funcs,
		Key:           wKey,
		ExpectOutcome: reconciler.OutcomeTransient,
		Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
			if cm := getCM(t, env, "a"); cm.Data["added"] != "by hand" {
				t.Errorf("conflicting update was applied: %v", cm.Data)
			}
		},
	})
}

// TestChildSetWithoutExactKeepsExtras: the default (superset) mode leaves fields
// another manager added, and writes nothing.
func TestChildSetWithoutExactKeepsExtras(t *testing.T) {
	harness(controllerWith(configMapSet())).RunCase(t, rt.Case[*Widget]{
		Objects:      []client.Object{withFinalizer(widget("w", blue, "a")), tampered("a", map[string]string{"color": "blue"})},
		Key:          wKey,
		ExpectWrites: &rt.Calls{StatusPatch: 1},
	})
}

// TestChildSetExactUnstructured: Exact works for unstructured children too.
func TestChildSetExactUnstructured(t *testing.T) {
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	cs := reconciler.ChildSet[*Widget, *unstructured.Unstructured]{
		Name: "u", FieldOwner: "courier",
		NewList: func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind("ConfigMapList"))
			return l
		},
		Labels: func(w *Widget) map[string]string { return map[string]string{widgetLabel: w.Name} },
		Desired: func(ctx context.Context, s *reconciler.State[*Widget]) ([]*unstructured.Unstructured, error) {
			u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"color": "blue"}}}
			u.SetGroupVersionKind(gvk)
			u.SetNamespace("a")
			u.SetName("widget-w")
			return []*unstructured.Unstructured{u}, nil
		},
		Exact: func(d, l *unstructured.Unstructured) bool { return reconciler.DefaultExact(d, l) },
	}
	build := func() *reconciler.Builder[*Widget] {
		return reconciler.For("widget", func() *Widget { return &Widget{} }).Steps(cs.Step())
	}
	h := harness(build)
	env := h.NewEnv([]client.Object{widget("w", blue, "a"), tampered("a", map[string]string{"color": "blue"})}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	if c := env.Counter.Calls(); c.Update != 1 || c.Apply != 0 {
		t.Fatalf("writes: %s", c)
	}
	if cm := getCM(t, env, "a"); len(cm.Data) != 1 || cm.Labels["added"] != "" {
		t.Errorf("not repaired: %v %v", cm.Data, cm.Labels)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("not steady: %v %s", r.Err, env.Counter.Calls())
	}
}

func TestExtraField(t *testing.T) {
	d := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "1"}}, Data: map[string]string{"k": "v"}}
	cases := map[string]struct {
		mut  func(*corev1.ConfigMap)
		want string
	}{
		"equal":            {func(*corev1.ConfigMap) {}, ""},
		"server metadata":  {func(c *corev1.ConfigMap) { c.UID, c.ResourceVersion, c.Finalizers = "u", "7", []string{"f"} }, ""},
		"reserved label":   {func(c *corev1.ConfigMap) { c.Labels["app.kubernetes.io/x"] = "y" }, ""},
		"reserved annot":   {func(c *corev1.ConfigMap) { c.Annotations = map[string]string{"kubectl.kubernetes.io/x": "y"} }, ""},
		"extra data key":   {func(c *corev1.ConfigMap) { c.Data["added"] = "x" }, ".data.added"},
		"extra binary":     {func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} }, ".binaryData"},
		"extra label":      {func(c *corev1.ConfigMap) { c.Labels["b"] = "2" }, ".metadata.labels.b"},
		"lookalike domain": {func(c *corev1.ConfigMap) { c.Labels["notkubernetes.io/x"] = "y" }, ".metadata.labels.notkubernetes.io/x"},
		"extra annotation": {func(c *corev1.ConfigMap) { c.Annotations = map[string]string{"n": "x"} }, ".metadata.annotations"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := d.DeepCopy()
			tc.mut(l)
			if got := reconciler.ExtraField(d, l); got != tc.want {
				t.Errorf("ExtraField = %q, want %q", got, tc.want)
			}
			if reconciler.DefaultExact(d, l) != (tc.want == "") {
				t.Error("DefaultExact disagrees with ExtraField")
			}
		})
	}
}
