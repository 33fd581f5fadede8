package reconciler

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Typed children take these paths instead of a round trip through
// runtime.DefaultUnstructuredConverter: its conversion of a []byte field goes through
// encoding and decoding JSON, and for Secret copies that was most of Courier's CPU
// time in a fan-out or an update (docs/performance.md).

// objectMetaOf returns the ObjectMeta embedded in a typed object, or nil for
// unstructured objects and types that do not embed one.
func objectMetaOf(o client.Object) *metav1.ObjectMeta {
	if _, ok := o.(*unstructured.Unstructured); ok {
		return nil
	}
	a, ok := o.(interface{ GetObjectMeta() metav1.Object })
	if !ok {
		return nil
	}
	m, _ := a.GetObjectMeta().(*metav1.ObjectMeta)
	return m
}

// statusField returns the settable Status field of a typed object, if it has one.
func statusField(o client.Object) (reflect.Value, bool) {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName("Status")
	return f, f.IsValid() && f.CanSet()
}

// typedCreation is creation for typed children: a deep copy of desired without
// server-populated metadata and status (what applyPayload drops). ok is false for
// unstructured children.
func typedCreation[C client.Object](d C) (C, bool) {
	if objectMetaOf(d) == nil {
		return d, false
	}
	c := d.DeepCopyObject().(C)
	m := objectMetaOf(c)
	keep := metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations,
		OwnerReferences: m.OwnerReferences, Finalizers: m.Finalizers,
	}
	*m = keep
	if st, ok := statusField(c); ok {
		st.Set(reflect.Zero(st.Type()))
	}
	return c, true
}

// typedReplacement is replacement for typed children: desired's fields, live's
// metadata and status, with desired's labels and annotations (plus the reserved
// keys of live that desired does not set). ok is false for unstructured children.
func typedReplacement[C client.Object](d, live C) (C, bool) {
	lm := objectMetaOf(live)
	if objectMetaOf(d) == nil || lm == nil {
		return d, false
	}
	c := d.DeepCopyObject().(C)
	m := objectMetaOf(c)
	labels, annotations := withReserved(m.Labels, lm.Labels), withReserved(m.Annotations, lm.Annotations)
	*m = *lm.DeepCopy()
	m.Labels, m.Annotations = labels, annotations
	if st, ok := statusField(c); ok {
		if lst, ok := statusField(live.DeepCopyObject().(C)); ok {
			st.Set(lst)
		}
	}
	return c, true
}
