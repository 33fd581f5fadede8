package propagation

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/authzpolicy"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// Least privilege: the DSL patches finalizers and status (merge patches), never updates.
// +kubebuilder:rbac:groups=courier.dev,resources=clusterpropagations;propagations,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=courier.dev,resources=clusterpropagations/status;propagations/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=selfsubjectaccessreviews,verbs=create
// The admission policy is read (never written) to verify it is in force before any takeover.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get,resourceNames=courier-propagation-authorization

// Controller names (metrics, logs, event reporter).
const (
	ClusterControllerName = "clusterpropagation"
	PullControllerName    = "propagation"
)

// SetupWithManager registers the ClusterPropagation and Propagation controllers.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	opts = opts.withDefaults()
	// Sources are watched through the manager's metadata streams: every Secret and
	// ConfigMap of the cluster may be a source, but only their events are needed
	// (sources are read live when a propagation syncs), so none is cached. The
	// manager's own cache selects Secrets and ConfigMaps by Courier's copy label.
	sources, err := metastream.ForManager(mgr)
	if err != nil {
		return err
	}
	if err := indexSources(mgr); err != nil {
		return err
	}
	if opts.Takeover == nil {
		opts.Takeover = &authzpolicy.Guard{Reader: mgr.GetAPIReader(), Mapper: mgr.GetRESTMapper()}
	}
	e := &engine{opts: opts, kinds: newKindRegistry(mgr.GetRESTMapper(), mgr.GetClient())}
	m := mapper{c: mgr.GetClient(), global: opts.ExcludedNamespaces}
	if err := setupCluster(mgr, e, m, sources); err != nil {
		return err
	}
	return setupPull(mgr, e, m, sources)
}

func indexSources(mgr ctrl.Manager) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.ClusterPropagation{}, sourceIndex, func(o client.Object) []string {
		return sourceKeys(o.(*v1alpha1.ClusterPropagation).Spec.Sources)
	}); err != nil {
		return err
	}
	return mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.Propagation{}, sourceIndex, func(o client.Object) []string {
		return sourceKeys(o.(*v1alpha1.Propagation).Spec.Sources)
	})
}

// setupCluster declares the ClusterPropagation controller's watches: its copies
// (label-selected manager cache), namespaces created, relabelled or deleted, and its
// sources (metadata only); kinds other than Secret/ConfigMap are watched on demand.
func setupCluster(mgr ctrl.Manager, e *engine, m mapper, sources *metastream.Hub) error {
	b := clusterReconciler(e).
		Concurrency(e.opts.MaxConcurrentReconciles).
		OwnsByLabel(&corev1.Secret{}, v1alpha1.LabelClusterPropagation, reconciler.NamespacedPrimary(false)).
		OwnsByLabel(&corev1.ConfigMap{}, v1alpha1.LabelClusterPropagation, reconciler.NamespacedPrimary(false)).
		Watches(&corev1.Namespace{}, m.clusterForNamespace, reconciler.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&corev1.Secret{}, m.clusterForSource(secretGVK), reconciler.FromStream(sources)).
		Watches(&corev1.ConfigMap{}, m.clusterForSource(configMapGVK), reconciler.FromStream(sources))
	if err := b.Complete(mgr); err != nil {
		return err
	}
	c := b.Controller()
	e.kinds.onNewKind(func(gvk schema.GroupVersionKind) error {
		return c.Watch(sources.Source(gvk, handler.EnqueueRequestsFromMapFunc(withCopies(m.clusterForSource(gvk), v1alpha1.LabelClusterPropagation, false))))
	})
	return nil
}

// setupPull declares the Propagation controller's watches: its copies, the
// namespaces holding Propagations (consent by selector depends on their labels),
// and its sources (metadata only).
func setupPull(mgr ctrl.Manager, e *engine, m mapper, sources *metastream.Hub) error {
	b := pullReconciler(e).
		Concurrency(e.opts.MaxConcurrentReconciles).
		OwnsByLabel(&corev1.Secret{}, v1alpha1.LabelPropagation, reconciler.NamespacedPrimary(true)).
		OwnsByLabel(&corev1.ConfigMap{}, v1alpha1.LabelPropagation, reconciler.NamespacedPrimary(true)).
		Watches(&corev1.Namespace{}, m.pullForNamespace, reconciler.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&corev1.Secret{}, m.pullForSource(secretGVK), reconciler.FromStream(sources)).
		Watches(&corev1.ConfigMap{}, m.pullForSource(configMapGVK), reconciler.FromStream(sources))
	if err := b.Complete(mgr); err != nil {
		return err
	}
	c := b.Controller()
	e.kinds.onNewKind(func(gvk schema.GroupVersionKind) error {
		return c.Watch(sources.Source(gvk, handler.EnqueueRequestsFromMapFunc(withCopies(m.pullForSource(gvk), v1alpha1.LabelPropagation, true))))
	})
	return nil
}
