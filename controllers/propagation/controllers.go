package propagation

import (
	"context"

	"k8s.io/apimachinery/pkg/types"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// clusterReconciler declares the ClusterPropagation reconcile: guard cleanup with the
// finalizer, then sync every copy.
func clusterReconciler(e *engine) *reconciler.Builder[*v1alpha1.ClusterPropagation] {
	return reconciler.For(ClusterControllerName, func() *v1alpha1.ClusterPropagation { return &v1alpha1.ClusterPropagation{} }).
		Steps(
			reconciler.Finalizer("finalizer", v1alpha1.Finalizer,
				func(ctx context.Context, s *reconciler.State[*v1alpha1.ClusterPropagation]) error {
					return cleanupCopies(ctx, e, s, clusterView(s.Object))
				}),
			reconciler.Sync("copies", func(ctx context.Context, s *reconciler.State[*v1alpha1.ClusterPropagation]) error {
				targets := clusterTargeting(s.Client, s.Object, e.opts.ExcludedNamespaces, s.NotReady)
				return syncCopies(ctx, e, s, clusterView(s.Object), targets, nil)
			}),
		)
}

// pullReconciler declares the Propagation reconcile: the same steps, with the own
// namespace as the only target and the source owner's consent checked per source.
func pullReconciler(e *engine) *reconciler.Builder[*v1alpha1.Propagation] {
	return reconciler.For(PullControllerName, func() *v1alpha1.Propagation { return &v1alpha1.Propagation{} }).
		Steps(
			reconciler.Finalizer("finalizer", v1alpha1.Finalizer,
				func(ctx context.Context, s *reconciler.State[*v1alpha1.Propagation]) error {
					return cleanupCopies(ctx, e, s, namespacedView(s.Object))
				}),
			reconciler.Sync("copies", func(ctx context.Context, s *reconciler.State[*v1alpha1.Propagation]) error {
				withdrawn := map[types.NamespacedName]bool{}
				targets := pullTargeting(s.Client, s.Object, e.opts.ExcludedNamespaces, withdrawn, s.NotReady)
				return syncCopies(ctx, e, s, namespacedView(s.Object), targets, withdrawn)
			}),
		)
}
