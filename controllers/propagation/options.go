package propagation

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/nsscope"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// DefaultExcludedNamespaces are never targeted unless Options.ExcludedNamespaces
// says otherwise.
var DefaultExcludedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Options configures the propagation controllers.
type Options struct {
	// ExcludedNamespaces are glob patterns of namespaces never targeted by any
	// propagation, whatever its spec says. nil means DefaultExcludedNamespaces; an
	// empty non-nil slice excludes nothing.
	ExcludedNamespaces []string
	// Scope is the namespaces a namespaced install is limited to (zero: every
	// namespace): no source is read and no copy written outside it, and a
	// propagation that would reach outside it says so (ReasonOutsideScope).
	Scope nsscope.Scope
	// MaxConcurrentReconciles per kind (default 2).
	MaxConcurrentReconciles int
	// ChildParallelism bounds concurrent copy writes of one reconcile (default 16).
	ChildParallelism int
	// Streams is the manager's metadata stream hub (metastream.NewForManager), through
	// which sources are watched without caching them. Required.
	Streams *metastream.Hub
	// Metrics records the reconcile DSL's metrics (nil: none).
	Metrics *reconciler.Metrics
	// Takeover says whether the admission policy that checks propagations' authors
	// is in force for these kinds (authzpolicy.Guard.Verify). Courier adopts or
	// overwrites no unmanaged object while it is not. nil: an authzpolicy.Guard
	// reading through the manager's API reader.
	Takeover TakeoverGuard
}

// TakeoverGuard is what the controllers ask before taking over an unmanaged object
// for conflictPolicy Adopt or Overwrite (implemented by authzpolicy.Guard).
type TakeoverGuard interface {
	Verify(ctx context.Context, kinds ...schema.GroupKind) error
}

func (o Options) withDefaults() Options {
	if o.ExcludedNamespaces == nil {
		o.ExcludedNamespaces = DefaultExcludedNamespaces
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 2
	}
	return o
}

// CacheByObject returns the manager cache entries this package needs: Secrets and
// ConfigMaps are cached only when they carry app.kubernetes.io/managed-by=courier,
// i.e. Courier's own copies, and only their metadata and the digest of their
// content (copyDigest): a copy costs the cache the same whatever its size. Sources
// are never in this cache (see doc.go).
func CacheByObject() map[client.Object]cache.ByObject {
	managed := labels.SelectorFromSet(labels.Set{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue})
	digest := reconciler.DigestContent(copyDigest)
	return map[client.Object]cache.ByObject{
		&corev1.Secret{}:    {Label: managed, Transform: digest},
		&corev1.ConfigMap{}: {Label: managed, Transform: digest},
	}
}

// copyDigest is the annotation under which the copy cache keeps a cached copy's
// content digest (reconciler.ChildSet.ContentDigest). It exists only in the cache:
// never on the API server, and no copy is written from a cached object. Its
// prefix is Courier's, so no source carries it onto a copy (copies.IsToolingKey).
const copyDigest = v1alpha1.ReservedPrefix + "cached-content-digest"
