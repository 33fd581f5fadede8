package reconciler

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// MetadataWatch is a source for objects of kind gvk, watched as
// PartialObjectMetadata through c; mapFn turns each event into primary requests
// (it receives *metav1.PartialObjectMetadata). It is the run-time counterpart of
// Watches(obj, mapFn, MetadataOnly(), FromCache(c)), for kinds only known once the
// controller runs: pass it to the Controller's Watch.
func MetadataWatch(c cache.Cache, gvk schema.GroupVersionKind, mapFn handler.MapFunc, preds ...predicate.Predicate) source.Source {
	return source.Kind[client.Object](c, metadataOf(gvk), handler.EnqueueRequestsFromMapFunc(mapFn), preds...)
}

// kindSource is the source of a watch declared with FromCache: the typed object, or
// (metadataOnly) PartialObjectMetadata of its kind.
func kindSource(c cache.Cache, scheme *runtime.Scheme, obj client.Object, metadataOnly bool, h handler.EventHandler, preds ...predicate.Predicate) (source.Source, error) {
	if metadataOnly {
		// GVKForObject also accepts a PartialObjectMetadata that carries its GVK.
		gvk, err := apiutil.GVKForObject(obj, scheme)
		if err != nil {
			return nil, fmt.Errorf("kind of the metadata-only watch on %T: %w", obj, err)
		}
		obj = metadataOf(gvk)
	}
	return source.Kind[client.Object](c, obj, h, preds...), nil
}

// metadataOf returns an empty PartialObjectMetadata of kind gvk: what a metadata
// informer is keyed by.
func metadataOf(gvk schema.GroupVersionKind) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	return m
}
