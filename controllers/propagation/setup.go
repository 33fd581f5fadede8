package propagation

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/courier-operator/courier/internal/authzpolicy"
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
	if opts.Streams == nil {
		return fmt.Errorf("propagation: Options.Streams (the manager's metastream.Hub) is required")
	}
	if opts.Takeover == nil {
		opts.Takeover = &authzpolicy.Guard{Reader: mgr.GetAPIReader(), Mapper: mgr.GetRESTMapper()}
	}
	e := &engine{opts: opts, kinds: newKindRegistry(mgr.GetRESTMapper(), mgr.GetClient())}
	m := mapper{c: mgr.GetClient(), global: opts.ExcludedNamespaces, scope: opts.Scope}
	if err := setupVariant(mgr, e, m, clusterVariant); err != nil {
		return err
	}
	return setupVariant(mgr, e, m, pullVariant)
}

// setupVariant indexes one variant's propagations by source and declares its
// controller's watches: its copies (the manager's label-selected cache), namespaces
// created, relabelled or deleted, and its sources through the manager's metadata
// streams (every Secret and ConfigMap of the cluster may be a source, but only their
// events are needed: sources are read live when a propagation syncs, so none is
// cached). Kinds other than Secret and ConfigMap are streamed on first use.
func setupVariant[T reconciler.Object](mgr ctrl.Manager, e *engine, m mapper, v variant[T]) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), v.New(), sourceIndex, func(o client.Object) []string {
		return sourceKeys(v.view(o.(T)).sources)
	}); err != nil {
		return fmt.Errorf("indexing %s sources: %w", v.controller, err)
	}
	streams := e.opts.Streams
	b := reconcilerFor(e, v).
		OwnsByLabel(&corev1.Secret{}, v.ownerLabel, reconciler.NamespacedPrimary(v.namespaced)).
		OwnsByLabel(&corev1.ConfigMap{}, v.ownerLabel, reconciler.NamespacedPrimary(v.namespaced)).
		Watches(&corev1.Namespace{}, v.forNamespace(m), reconciler.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesStream(&corev1.Secret{}, streams, forSource(m, v, secretGVK)).
		WatchesStream(&corev1.ConfigMap{}, streams, forSource(m, v, configMapGVK))
	if err := b.Complete(mgr); err != nil {
		return err
	}
	c := b.Controller()
	e.kinds.onNewKind(func(gvk schema.GroupVersionKind) error {
		return c.Watch(streams.Source(gvk, handler.EnqueueRequestsFromMapFunc(withCopies(forSource(m, v, gvk), v.ownerLabel, v.namespaced))))
	})
	return nil
}
