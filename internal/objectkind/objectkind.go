package objectkind

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Kind makes objects and lists of one kind, whose objects are T (a pointer type).
type Kind[T client.Object] struct {
	newObj  func() T
	newList func() client.ObjectList
	items   func(client.ObjectList) []T
}

// Of declares the kind whose list type is L and whose list items are O, from the
// function that returns a list's items (usually `func(l *FooList) []Foo { return l.Items }`).
// The pointer types LT and T are inferred.
func Of[L any, LT interface {
	*L
	client.ObjectList
}, O any, T interface {
	*O
	client.Object
}](items func(*L) []O) Kind[T] {
	return Kind[T]{
		newObj:  func() T { return T(new(O)) },
		newList: func() client.ObjectList { return LT(new(L)) },
		items: func(l client.ObjectList) []T {
			objs := items((*L)(l.(LT)))
			out := make([]T, len(objs))
			for i := range objs {
				out[i] = &objs[i]
			}
			return out
		},
	}
}

// New returns an empty object of the kind.
func (k Kind[T]) New() T { return k.newObj() }

// NewList returns an empty list of the kind.
func (k Kind[T]) NewList() client.ObjectList { return k.newList() }

// Items returns pointers to the objects of a list made by NewList (no copies).
func (k Kind[T]) Items(l client.ObjectList) []T { return k.items(l) }

// Unstructured declares the kind gvk for objects read as *unstructured.Unstructured:
// a kind Courier has no Go type for (a custom resource an admin declares). Objects
// and lists carry gvk, so clients and caches know what to read.
func Unstructured(gvk schema.GroupVersionKind) Kind[*unstructured.Unstructured] {
	return Kind[*unstructured.Unstructured]{
		newObj: func() *unstructured.Unstructured {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			return u
		},
		newList: func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			return l
		},
		items: func(l client.ObjectList) []*unstructured.Unstructured {
			objs := l.(*unstructured.UnstructuredList).Items
			out := make([]*unstructured.Unstructured, len(objs))
			for i := range objs {
				out[i] = &objs[i]
			}
			return out
		},
	}
}
