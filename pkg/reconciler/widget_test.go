package reconciler_test

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// Widget is a tiny cluster-scoped test primary (group test.courier.dev). Its CRD is
// testdata/widgets.yaml, used by the envtest suite.
type Widget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              WidgetSpec   `json:"spec,omitempty"`
	Status            WidgetStatus `json:"status,omitempty"`
}

type WidgetSpec struct {
	// Namespaces get a ConfigMap named after the widget.
	Namespaces []string `json:"namespaces,omitempty"`
	// Data is the content of every ConfigMap.
	Data map[string]string `json:"data,omitempty"`
}

type WidgetStatus struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
	Synced             int                `json:"synced,omitempty"`
	// LastWrite counts reconciles that wrote a child: like a lastSyncTime, it is
	// kept, not recomputed, by a reconcile that writes nothing.
	LastWrite int `json:"lastWrite,omitempty"`
}

func (w *Widget) GetConditions() []metav1.Condition  { return w.Status.Conditions }
func (w *Widget) SetConditions(c []metav1.Condition) { w.Status.Conditions = c }
func (w *Widget) GetObservedGeneration() int64       { return w.Status.ObservedGeneration }
func (w *Widget) SetObservedGeneration(g int64)      { w.Status.ObservedGeneration = g }
func (w *Widget) DeepCopyObject() runtime.Object     { return w.DeepCopy() }
func (l *WidgetList) DeepCopyObject() runtime.Object { return l.DeepCopy() }

func (w *Widget) DeepCopy() *Widget {
	out := &Widget{TypeMeta: w.TypeMeta}
	w.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Spec.Namespaces = append([]string(nil), w.Spec.Namespaces...)
	if w.Spec.Data != nil {
		out.Spec.Data = make(map[string]string, len(w.Spec.Data))
		for k, v := range w.Spec.Data {
			out.Spec.Data[k] = v
		}
	}
	out.Status.ObservedGeneration = w.Status.ObservedGeneration
	out.Status.Synced = w.Status.Synced
	out.Status.LastWrite = w.Status.LastWrite
	for _, c := range w.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, *c.DeepCopy())
	}
	return out
}

type WidgetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Widget `json:"items"`
}

func (l *WidgetList) DeepCopy() *WidgetList {
	out := &WidgetList{TypeMeta: l.TypeMeta}
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	for i := range l.Items {
		out.Items = append(out.Items, *l.Items[i].DeepCopy())
	}
	return out
}

var widgetGV = schema.GroupVersion{Group: "test.courier.dev", Version: "v1alpha1"}

// newScheme returns client-go's types plus Widget.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	s.AddKnownTypes(widgetGV, &Widget{}, &WidgetList{})
	metav1.AddToGroupVersion(s, widgetGV)
	return s
}

// widget returns a Widget at generation 1.
func widget(name string, data map[string]string, namespaces ...string) *Widget {
	return &Widget{
		TypeMeta:   metav1.TypeMeta{APIVersion: widgetGV.String(), Kind: "Widget"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec:       WidgetSpec{Namespaces: namespaces, Data: data},
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// perNamespace is a ChildSet's Desired for a widget: one child, built by child, in
// each namespace the widget lists.
func perNamespace[C client.Object](child func(w *Widget, ns string) C) func(context.Context, *reconciler.State[*Widget]) ([]C, error) {
	return func(_ context.Context, s *reconciler.State[*Widget]) ([]C, error) {
		var out []C
		for _, ns := range s.Object.Spec.Namespaces {
			out = append(out, child(s.Object, ns))
		}
		return out, nil
	}
}
