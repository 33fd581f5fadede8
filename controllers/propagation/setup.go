package propagation

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// +kubebuilder:rbac:groups=courier.dev,resources=clusterpropagations;propagations,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=courier.dev,resources=clusterpropagations/status;propagations/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=courier.dev,resources=clusterpropagations/finalizers;propagations/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=selfsubjectaccessreviews,verbs=create

// Controller names (metrics, logs, event reporter).
const (
	ClusterControllerName = "clusterpropagation"
	PullControllerName    = "propagation"
)

// SetupWithManager registers the ClusterPropagation and Propagation controllers.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	opts = opts.withDefaults()
	sources, err := newSourceCache(mgr)
	if err != nil {
		return err
	}
	if err := indexSources(mgr); err != nil {
		return err
	}
	e := &engine{opts: opts, kinds: newKindRegistry(mgr.GetRESTMapper(), mgr.GetClient())}
	m := mapper{c: mgr.GetClient(), global: opts.ExcludedNamespaces}
	if err := setupCluster(mgr, e, m, sources); err != nil {
		return err
	}
	return setupPull(mgr, e, m, sources)
}

// newSourceCache returns the cache sources are watched through, added to the
// manager. It is only ever asked for PartialObjectMetadata, so it holds object
// metadata (without managedFields) and no data. It is separate from the manager's
// cache because that one selects Secrets and ConfigMaps by Courier's label (one
// selector per type per cache), which would hide every source.
func newSourceCache(mgr ctrl.Manager) (cache.Cache, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient:       mgr.GetHTTPClient(),
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: cache.TransformStripManagedFields(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the source metadata cache: %w", err)
	}
	// Added as a cache runnable (GetCache), so the manager starts and syncs it with
	// its own caches, before any controller and on every replica.
	if err := mgr.Add(sourceCache{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// sourceCache makes the manager treat the source metadata cache as a cache runnable.
type sourceCache struct{ cache.Cache }

// GetCache returns the wrapped cache.
func (c sourceCache) GetCache() cache.Cache { return c.Cache }

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

// metadataWatch watches objects of kind gvk as PartialObjectMetadata through the
// source cache.
func metadataWatch(sources cache.Cache, gvk schema.GroupVersionKind, fn handler.MapFunc) source.Source {
	return source.Kind[client.Object](sources, metadataOf(gvk), handler.EnqueueRequestsFromMapFunc(fn))
}

// setupCluster declares the ClusterPropagation controller.
func setupCluster(mgr ctrl.Manager, e *engine, m mapper, sources cache.Cache) error {
	r, err := clusterReconciler(e).Build(mgr)
	if err != nil {
		return err
	}
	copyOwner := handler.EnqueueRequestsFromMapFunc(reconcilerLabelMapper(v1alpha1.LabelClusterPropagation, false))
	c, err := builder.ControllerManagedBy(mgr).
		Named(ClusterControllerName).
		For(&v1alpha1.ClusterPropagation{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: e.opts.MaxConcurrentReconciles}).
		Watches(&corev1.Secret{}, copyOwner).
		Watches(&corev1.ConfigMap{}, copyOwner).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(m.clusterForNamespace), builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(metadataWatch(sources, secretGVK, m.clusterForSource(secretGVK))).
		WatchesRawSource(metadataWatch(sources, configMapGVK, m.clusterForSource(configMapGVK))).
		Build(r)
	if err != nil {
		return err
	}
	e.kinds.onNewKind(func(gvk schema.GroupVersionKind) error {
		return c.Watch(metadataWatch(sources, gvk, withCopies(m.clusterForSource(gvk), v1alpha1.LabelClusterPropagation, false)))
	})
	return nil
}

// setupPull declares the Propagation controller.
func setupPull(mgr ctrl.Manager, e *engine, m mapper, sources cache.Cache) error {
	r, err := pullReconciler(e).Build(mgr)
	if err != nil {
		return err
	}
	copyOwner := handler.EnqueueRequestsFromMapFunc(reconcilerLabelMapper(v1alpha1.LabelPropagation, true))
	c, err := builder.ControllerManagedBy(mgr).
		Named(PullControllerName).
		For(&v1alpha1.Propagation{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: e.opts.MaxConcurrentReconciles}).
		Watches(&corev1.Secret{}, copyOwner).
		Watches(&corev1.ConfigMap{}, copyOwner).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(m.pullForNamespace), builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(metadataWatch(sources, secretGVK, m.pullForSource(secretGVK))).
		WatchesRawSource(metadataWatch(sources, configMapGVK, m.pullForSource(configMapGVK))).
		Build(r)
	if err != nil {
		return err
	}
	e.kinds.onNewKind(func(gvk schema.GroupVersionKind) error {
		return c.Watch(metadataWatch(sources, gvk, withCopies(m.pullForSource(gvk), v1alpha1.LabelPropagation, true)))
	})
	return nil
}
