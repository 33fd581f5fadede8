package rollout

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/courier-operator/courier/internal/workloadrefs"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// completeController declares the controller of one workload kind in the reconcile
// DSL: one step (syncWorkload); the workload itself, filtered to changes that can
// matter (spec, labels, annotations — not status, which changes with every pod); and
// the metadata of every ConfigMap and Secret through the shared metadata cache
// (meta), mapped to the consuming workloads by the field index.
func completeController[T client.Object](mgr ctrl.Manager, r *syncer, meta cache.Cache, k workloadKind[T]) error {
	return reconciler.For("rollout-"+strings.ToLower(k.name), k.newObj).
		Steps(reconciler.Sync("rollout", func(ctx context.Context, s *reconciler.State[T]) error {
			return syncWorkload(ctx, r, k, s.Object, scope{Client: s.Client, Reader: s.Reader, Log: s.Log, Eventf: s.Eventf})
		})).
		WithPrimaryPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{})).
		Watches(&corev1.ConfigMap{}, k.consumers(mgr.GetClient(), workloadrefs.ConfigMap), reconciler.MetadataOnly(), reconciler.FromCache(meta)).
		Watches(&corev1.Secret{}, k.consumers(mgr.GetClient(), workloadrefs.Secret), reconciler.MetadataOnly(), reconciler.FromCache(meta)).
		Concurrency(r.opts.MaxConcurrentReconciles).
		Complete(mgr)
}
