package rollout

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/courier-operator/courier/internal/workloadrefs"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// completeController declares the controller of one workload kind in the reconcile
// DSL: one step (syncWorkload); the workload itself, filtered to changes that can
// matter (spec, labels, annotations — not status, which changes with every pod); and
// the events of every ConfigMap and Secret through the manager's metadata streams
// (inputs; nothing of them is cached), mapped to the consuming workloads by the
// field index. Workloads are cached by the manager, or, for a kind picked up at run
// time, by cl (see lateKinds).
func completeController[T client.Object](mgr ctrl.Manager, r *syncer, inputs *metastream.Hub, k workloadKind[T], cl cluster.Cluster) error {
	workloads := mgr.GetClient()
	b := reconciler.For("rollout-"+strings.ToLower(k.name), k.New)
	if cl != nil {
		workloads = cl.GetClient()
		b = b.FromCluster(cl)
	}
	return b.
		Steps(reconciler.Sync("rollout", func(ctx context.Context, s *reconciler.State[T]) error {
			return syncWorkload(ctx, r, k, s.Object, scope{Client: s.Client, Reader: s.Reader, Log: s.Log, Eventf: s.Eventf})
		})).
		Gone(func(_ context.Context, key types.NamespacedName) { r.forget(k.name, key) }).
		WithPrimaryPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{})).
		WatchesStream(&corev1.ConfigMap{}, inputs, k.consumers(workloads, workloadrefs.ConfigMap)).
		WatchesStream(&corev1.Secret{}, inputs, k.consumers(workloads, workloadrefs.Secret)).
		Concurrency(r.opts.MaxConcurrentReconciles).
		Metrics(r.opts.Metrics).
		Complete(mgr)
}
