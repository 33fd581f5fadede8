package propagation

import (
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/objectkind"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// variant describes one kind of propagation: ClusterPropagation (push) or
// Propagation (pull). The two differ only in these fields; the controller, its
// watches, the copies and the status are written once, for any variant.
type variant[T reconciler.Object] struct {
	// controller is the controller's name (metrics, logs, event reporter).
	controller string
	// Kind makes empty propagations and lists of them.
	objectkind.Kind[T]
	// ownerLabel is the label naming the owning propagation on every copy.
	ownerLabel string
	// namespaced: Propagations are, ClusterPropagations are not.
	namespaced bool
	// view returns what the shared code needs of a propagation.
	view func(T) view
	// targets returns the targeting of one reconcile; a pull records in withdrawn
	// the copies whose source owner no longer consents.
	targets func(e *engine, s *reconciler.State[T], withdrawn map[types.NamespacedName]bool) targeting
	// forNamespace maps a namespace event to the propagations it concerns.
	forNamespace func(m mapper) handler.MapFunc
}

var clusterVariant = variant[*v1alpha1.ClusterPropagation]{
	controller: ClusterControllerName,
	Kind:       objectkind.Of(func(l *v1alpha1.ClusterPropagationList) []v1alpha1.ClusterPropagation { return l.Items }),
	ownerLabel: v1alpha1.LabelClusterPropagation,
	view:       clusterView,
	targets: func(e *engine, s *reconciler.State[*v1alpha1.ClusterPropagation], _ map[types.NamespacedName]bool) targeting {
		return clusterTargeting(s.Client, s.Object, e.opts.ExcludedNamespaces, e.opts.Scope, s.NotReady)
	},
	forNamespace: func(m mapper) handler.MapFunc { return m.clusterForNamespace },
}

var pullVariant = variant[*v1alpha1.Propagation]{
	controller: PullControllerName,
	Kind:       objectkind.Of(func(l *v1alpha1.PropagationList) []v1alpha1.Propagation { return l.Items }),
	ownerLabel: v1alpha1.LabelPropagation,
	namespaced: true,
	view:       namespacedView,
	targets: func(e *engine, s *reconciler.State[*v1alpha1.Propagation], withdrawn map[types.NamespacedName]bool) targeting {
		return pullTargeting(s.Client, s.Object, e.opts.ExcludedNamespaces, withdrawn, s.NotReady)
	},
	forNamespace: func(m mapper) handler.MapFunc { return m.pullForNamespace },
}
