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

// ownCopy returns a copy of d that a write may send, or a stamp change, without
// touching d: lightCopy when d's content allows it, a deep copy otherwise.
func ownCopy[C client.Object](d C) C {
	if c, ok := lightCopy(d); ok {
		return c
	}
	return d.DeepCopyObject().(C)
}

// lightCopy copies a typed object whose content is made of scalars, pointers to
// scalars and maps of strings or byte slices (a Secret, a ConfigMap): its
// metadata is deep-copied, its maps and pointers are new, and the map values are
// shared with obj. Nothing writes into those values: a response or a watch event is
// decoded into new ones. For a fan-out of one Secret to a thousand namespaces, the
// deep copies this saves were a thousand copies of the payload per step. ok is
// false for any other shape (nested structs and slices), which only a deep copy
// copies safely.
func lightCopy[C client.Object](obj C) (C, bool) {
	var zero C
	if objectMetaOf(obj) == nil {
		return zero, false
	}
	t := reflect.TypeOf(obj).Elem()
	for i := range t.NumField() {
		if f := t.Field(i); !identityStructField(f) && (!f.IsExported() || !lightField(f.Type)) {
			return zero, false
		}
	}
	c, _ := shallowCopy(obj)
	for i := range t.NumField() {
		switch f := c.Elem().Field(i); {
		case f.Kind() == reflect.Map && !f.IsNil():
			m := reflect.MakeMapWithSize(f.Type(), f.Len())
			for it := f.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), it.Value())
			}
			f.Set(m)
		case f.Kind() == reflect.Pointer && !f.IsNil():
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(f.Elem())
			f.Set(p)
		}
	}
	out := c.Interface().(C)
	m := objectMetaOf(out)
	*m = *m.DeepCopy()
	return out, true
}

// lightField reports whether a content field of type t can be copied by lightCopy.
func lightField(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer:
		return scalar(t.Elem().Kind())
	case reflect.Map:
		e := t.Elem()
		return t.Key().Kind() == reflect.String && (e.Kind() == reflect.String || e.Kind() == reflect.Slice && e.Elem().Kind() == reflect.Uint8)
	}
	return scalar(t.Kind())
}

func scalar(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
		return true
	}
	return false
}

// typedCreation is creation for typed children: a copy of desired without
// server-populated metadata and status (what applyPayload drops). ok is false for
// unstructured children.
func typedCreation[C client.Object](d C) (C, bool) {
	if objectMetaOf(d) == nil {
		return d, false
	}
	c := ownCopy(d)
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
	c := ownCopy(d)
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
