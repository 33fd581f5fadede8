package reconciler_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	"github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

const widgetLabel = "test.courier.dev/widget"

// widgetConfigMaps is the example controller's ChildSet: one ConfigMap named
// "widget-<name>" with the widget's data in each namespace the widget lists.
func widgetConfigMaps() reconciler.ChildSet[*Widget, *corev1.ConfigMap] {
	return reconciler.ChildSet[*Widget, *corev1.ConfigMap]{
		Name:       "configmaps",
		FieldOwner: "courier",
		NewList:    func() client.ObjectList { return &corev1.ConfigMapList{} },
		Labels:     func(w *Widget) map[string]string { return map[string]string{widgetLabel: w.Name} },
		Desired: func(ctx context.Context, s *reconciler.State[*Widget]) ([]*corev1.ConfigMap, error) {
			var out []*corev1.ConfigMap
			for _, ns := range s.Object.Spec.Namespaces {
				out = append(out, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: "widget-" + s.Object.Name, Namespace: ns},
					Data:       s.Object.Spec.Data,
				})
			}
			return out, nil
		},
	}
}

// widgetController keeps the widget's ConfigMaps, and removes them when the widget
// is deleted.
func widgetController() *reconciler.Builder[*Widget] {
	configMaps := widgetConfigMaps().Step()
	return reconciler.For("widget", func() *Widget { return &Widget{} }).
		Steps(
			reconciler.Finalizer("finalizer", "test.courier.dev/cleanup", configMaps.Release),
			configMaps,
		).
		OwnsByLabel(&corev1.ConfigMap{}, widgetLabel).
		Status(func(ctx context.Context, s *reconciler.State[*Widget]) {
			report, _ := configMaps.Report(s)
			s.Object.Status.Synced = report.Synced()
		})
}

// A parent that keeps a set of ConfigMaps in several namespaces. In a real operator
// the last line is widgetController().Complete(mgr); here the reconciler runs once
// against the test kit's fake API.
func Example() {
	env := reconcilertest.NewEnv(newScheme(), reconcilertest.Options{
		Objects:           []client.Object{widget("w", map[string]string{"color": "blue"}, "team-a", "team-b")},
		StatusSubresource: []client.Object{&Widget{}},
	})
	r, _ := widgetController().BuildWith(env.Deps())
	for i := 0; i < 2; i++ {
		res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Name: "w"}})
		fmt.Printf("reconcile %d: requeueAfter=%s err=%v writes=%d\n", i+1, res.RequeueAfter, err, env.Counter.Calls().Writes())
		env.Counter.Reset()
	}
	var cms corev1.ConfigMapList
	_ = env.Fake.List(context.Background(), &cms, client.MatchingLabels{widgetLabel: "w"})
	for _, cm := range cms.Items {
		fmt.Println(cm.Namespace+"/"+cm.Name, cm.Data)
	}
	var w Widget
	_ = env.Fake.Get(context.Background(), types.NamespacedName{Name: "w"}, &w)
	fmt.Println("synced:", w.Status.Synced, "ready:", w.Status.Conditions[0].Status, w.Status.Conditions[0].Reason)
	// Output:
	// reconcile 1: requeueAfter=0s err=<nil> writes=4
	// reconcile 2: requeueAfter=0s err=<nil> writes=0
	// team-a/widget-w map[color:blue]
	// team-b/widget-w map[color:blue]
	// synced: 2 ready: True Succeeded
}
