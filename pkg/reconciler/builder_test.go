package reconciler_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// TestUnstructuredChildren: the same ChildSet with *unstructured.Unstructured children
// and an UnstructuredList, listing in one namespace only.
func TestUnstructuredChildren(t *testing.T) {
	gvk := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	cs := reconciler.ChildSet[*Widget, *unstructured.Unstructured]{
		Name: "unstructured",
		NewList: func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind("ConfigMapList"))
			return l
		},
		Labels:    func(w *Widget) map[string]string { return map[string]string{widgetLabel: w.Name} },
		Namespace: func(*Widget) string { return "a" },
		Desired: func(ctx context.Context, s *reconciler.State[*Widget]) ([]*unstructured.Unstructured, error) {
			u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"color": "blue"}}}
			u.SetGroupVersionKind(gvk)
			u.SetName("widget-w")
			u.SetNamespace("a")
			return []*unstructured.Unstructured{u}, nil
		},
	}
	h := harness(stepsOnly(cs.Step()))
	env := h.NewEnv([]client.Object{widget("w", nil), unmanagedCM("b", nil)}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Apply != 1 {
		t.Fatalf("first: %v %s", r.Err, env.Counter.Calls())
	}
	cm := getCM(t, env, "a")
	if cm == nil || cm.Data["color"] != "blue" || cm.Labels[widgetLabel] != "w" {
		t.Fatalf("child = %+v", cm)
	}
	// The field owner defaults to the controller name.
	if len(cm.ManagedFields) == 0 || cm.ManagedFields[0].Manager != "widget" {
		t.Errorf("managedFields = %+v", cm.ManagedFields)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("second: %v %s", r.Err, env.Counter.Calls())
	}
	// Someone removes our label: the object is no longer ours, it is a conflict now.
	cm.Labels = nil
	if err := env.Fake.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	r := h.Reconcile(t, env, wKey)
	if r.Err != nil || env.Counter.Calls().Apply != 0 {
		t.Fatalf("third: %v %s", r.Err, env.Counter.Calls())
	}
	w := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, w)
	if w.Status.Conditions[0].Reason != reconciler.ReasonChildConflict {
		t.Errorf("conditions = %+v", w.Status.Conditions)
	}
}

// TestComplete wires a controller with every kind of watch into a manager (which is
// never started, so no API server is needed).
func TestComplete(t *testing.T) {
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ctrl.Options{
		Scheme:                 newScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	noop := predicate.Funcs{GenericFunc: func(event.GenericEvent) bool { return false }}
	err = widgetController().
		OwnsByLabel(&corev1.Secret{}, widgetLabel, reconciler.NamespacedPrimary(false)).
		Watches(&corev1.Namespace{}, func(ctx context.Context, obj client.Object) []reconcile.Request { return nil }, reconciler.WithPredicates(noop)).
		WithPrimaryPredicates(predicate.GenerationChangedPredicate{}).
		Concurrency(2).
		Complete(mgr)
	// OwnsByLabel on the ConfigMap watch has no NamespacedPrimary, so the scope comes
	// from the RESTMapper, which cannot reach an API server here.
	if err == nil || !strings.Contains(err.Error(), "NamespacedPrimary") {
		t.Fatalf("expected a RESTMapper error without an API server, got %v", err)
	}
	b := reconciler.For("widget2", func() *Widget { return &Widget{} }).
		Steps(configMapSet().Step()).
		OwnsByLabel(&corev1.ConfigMap{}, widgetLabel, reconciler.NamespacedPrimary(false)).
		Watches(&corev1.Namespace{}, func(ctx context.Context, obj client.Object) []reconcile.Request { return nil }, reconciler.WithPredicates(noop)).
		WithPrimaryPredicates(predicate.GenerationChangedPredicate{}).
		Metrics(reconciler.NewMetrics("complete_test")).
		Concurrency(2)
	err = b.Complete(mgr)
	if err != nil || b.Controller() == nil {
		t.Fatal(err)
	}
	if _, err := reconciler.For[*Widget]("", func() *Widget { return &Widget{} }).Build(mgr); err == nil {
		t.Fatal("Build accepted an empty name")
	}
	if err := reconciler.For[*Widget]("", func() *Widget { return &Widget{} }).Complete(mgr); err == nil {
		t.Fatal("Complete accepted an empty name")
	}
}
