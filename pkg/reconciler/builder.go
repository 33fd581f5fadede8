package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Builder declares a controller: its primary type, its steps, what it watches.
// A controller file reads top-down:
//
//	reconciler.For("widget", func() *Widget { return &Widget{} }).
//		Steps(finalizer, children).
//		OwnsByLabel(&corev1.ConfigMap{}, "example.com/widget", reconciler.MetadataOnly()).
//		Complete(mgr)
type Builder[T client.Object] struct {
	name         string
	newObj       func() T
	steps        []Step[T]
	watches      []watchSpec
	primaryPreds []predicate.Predicate
	concurrency  int
	status       func(ctx context.Context, s *State[T])
	ctrl         controller.Controller // set by Complete
}

type watchKind int

const (
	watchByLabel watchKind = iota
	watchByReference
	watchMapped
)

type watchSpec struct {
	kind     watchKind
	obj      client.Object
	labelKey string
	mapFn    func(ctx context.Context, obj client.Object) []reconcile.Request
	opts     watchOptions
}

type watchOptions struct {
	metadataOnly bool
	predicates   []predicate.Predicate
	namespaced   *bool
	cache        cache.Cache
	stream       EventStream
}

// WatchOption configures a watch declared on a Builder.
type WatchOption func(*watchOptions)

// MetadataOnly watches (and caches) the object as PartialObjectMetadata
// (builder.OnlyMetadata), so the cache holds no data of the watched objects.
func MetadataOnly() WatchOption { return func(o *watchOptions) { o.metadataOnly = true } }

// FromCache watches through c instead of the manager's cache.
//
// Use it when the manager's cache cannot show the objects: a cache has one label or
// field selector per kind (Courier's manager cache selects ConfigMaps and Secrets by
// its copy label), so watching every ConfigMap or Secret needs a cache of its own,
// such as a metadata-only cache of its own (or, to cache nothing, see FromStream). With MetadataOnly the
// watch asks c for PartialObjectMetadata of the object's kind (derived from the
// scheme), so the map function receives *metav1.PartialObjectMetadata; without it,
// c is asked for the typed object. c must be started by the manager (a cache
// runnable: one with a GetCache method), or the watch never syncs.
func FromCache(c cache.Cache) WatchOption { return func(o *watchOptions) { o.cache = c } }

// EventStream delivers the events of every object of a kind without caching the
// objects (metastream.Hub implements it).
type EventStream interface {
	Source(gvk schema.GroupVersionKind, h handler.EventHandler) source.SyncingSource
}

// FromStream watches the object's kind through s instead of a cache: the map
// function receives *metav1.PartialObjectMetadata, and no object of the kind is kept
// in memory. Use it for kinds with many objects the controller does not otherwise
// read from a cache, e.g. every Secret of the cluster when only a few are sources
// (see pkg/metastream for how its events differ from an informer's). It cannot be
// combined with WithPredicates: a stream has no previous state for predicates to
// compare.
func FromStream(s EventStream) WatchOption { return func(o *watchOptions) { o.stream = s } }

// WithPredicates filters the events of a watch.
func WithPredicates(p ...predicate.Predicate) WatchOption {
	return func(o *watchOptions) { o.predicates = append(o.predicates, p...) }
}

// NamespacedPrimary tells OwnsByLabel whether the primary is namespaced (the request
// then takes the child's namespace) or cluster-scoped (empty namespace). Without it
// the scope is read from the manager's RESTMapper.
func NamespacedPrimary(namespaced bool) WatchOption {
	return func(o *watchOptions) { o.namespaced = &namespaced }
}

// For starts the declaration of a controller named name reconciling primaries of
// type T. newObj returns an empty primary (e.g. func() *Widget { return &Widget{} }).
// The name is used for metrics, logs and as the event reporting controller; it must
// be a valid Kubernetes qualified name.
func For[T client.Object](name string, newObj func() T) *Builder[T] {
	return &Builder[T]{name: name, newObj: newObj}
}

// Steps appends steps; they run as one Sequence.
func (b *Builder[T]) Steps(steps ...Step[T]) *Builder[T] {
	b.steps = append(b.steps, steps...)
	return b
}

// OwnsByLabel watches children carrying labelKey: an event on a child enqueues the
// primary named by the label's value (in the child's namespace if the primary is
// namespaced, cluster-scoped otherwise; see NamespacedPrimary).
//
// Watch children through the same cache the ChildSet lists them from: an event is
// delivered after its own informer's store is updated, but another informer (e.g. a
// MetadataOnly watch while the ChildSet lists typed objects from the cache) may not
// have seen the change yet, and the drift would go unnoticed until the next event.
// MetadataOnly fits when the ChildSet lists through a metadata-only or uncached
// Lister (e.g. s.Reader).
func (b *Builder[T]) OwnsByLabel(obj client.Object, labelKey string, opts ...WatchOption) *Builder[T] {
	b.watches = append(b.watches, watchSpec{kind: watchByLabel, obj: obj, labelKey: labelKey, opts: applyWatchOptions(opts)})
	return b
}

// OwnsByReference watches children whose controller owner reference points at a
// primary of type T.
func (b *Builder[T]) OwnsByReference(obj client.Object, opts ...WatchOption) *Builder[T] {
	b.watches = append(b.watches, watchSpec{kind: watchByReference, obj: obj, opts: applyWatchOptions(opts)})
	return b
}

// Watches watches any object; mapFn turns its events into primary requests. With
// MetadataOnly, mapFn receives *metav1.PartialObjectMetadata.
func (b *Builder[T]) Watches(obj client.Object, mapFn func(ctx context.Context, obj client.Object) []reconcile.Request, opts ...WatchOption) *Builder[T] {
	b.watches = append(b.watches, watchSpec{kind: watchMapped, obj: obj, mapFn: mapFn, opts: applyWatchOptions(opts)})
	return b
}

// WithPrimaryPredicates filters the events of the primary itself.
func (b *Builder[T]) WithPrimaryPredicates(p ...predicate.Predicate) *Builder[T] {
	b.primaryPreds = append(b.primaryPreds, p...)
	return b
}

// Concurrency sets the number of concurrent reconciles (default 1).
func (b *Builder[T]) Concurrency(n int) *Builder[T] {
	b.concurrency = n
	return b
}

// Status sets a hook that computes primary-specific status fields (counts, lists of
// failures...) from the state's facts and child reports. It runs after the steps,
// on every reconcile that did not remove the primary's last finalizer, right before
// conditions are computed and status is written once.
func (b *Builder[T]) Status(fn func(ctx context.Context, s *State[T])) *Builder[T] {
	b.status = fn
	return b
}

// Deps are what a reconciler needs. Build fills them from a manager; tests fill
// them directly and call BuildWith.
type Deps struct {
	// Client is the (cached) client used for the primary and children. Required.
	Client client.Client
	// Reader is an uncached reader; defaults to Client.
	Reader client.Reader
	// Scheme maps Go types to GroupVersionKinds; defaults to Client.Scheme().
	Scheme *runtime.Scheme
	// Recorder records events (events.k8s.io); nil disables events.
	Recorder events.EventRecorder
	// Log is the base logger; defaults to the logger in the reconcile context.
	Log logr.Logger
}

func (d Deps) withDefaults() Deps {
	if d.Reader == nil {
		d.Reader = d.Client
	}
	if d.Scheme == nil && d.Client != nil {
		d.Scheme = d.Client.Scheme()
	}
	return d
}

// Build returns the reconciler, wired to the manager's client, API reader, scheme and
// an events.k8s.io recorder named after the controller. It registers no watches; see
// Complete.
func (b *Builder[T]) Build(mgr ctrl.Manager) (reconcile.TypedReconciler[reconcile.Request], error) {
	return b.BuildWith(Deps{
		Client:   mgr.GetClient(),
		Reader:   mgr.GetAPIReader(),
		Scheme:   mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder(b.name),
	})
}

// BuildWith returns the reconciler built from explicit dependencies, without a
// manager (used by tests).
func (b *Builder[T]) BuildWith(deps Deps) (reconcile.TypedReconciler[reconcile.Request], error) {
	if b.name == "" {
		return nil, errors.New("reconciler: controller name is required")
	}
	if b.newObj == nil {
		return nil, errors.New("reconciler: For needs a newObj function")
	}
	if deps.Client == nil {
		return nil, errors.New("reconciler: Deps.Client is required")
	}
	deps = deps.withDefaults()
	return &primaryReconciler[T]{
		name:   b.name,
		newObj: b.newObj,
		steps:  sequence[T]{steps: append([]Step[T](nil), b.steps...)},
		status: b.status,
		deps:   deps,
	}, nil
}

// Complete builds the reconciler and registers it, with its watches, in the manager.
// The controller it creates is then available from Controller, to add watches for
// kinds discovered at run time. The informers of the primary and of every watch on
// the manager's cache are created at once, so they sync with the manager's cache
// (before leader election) and a readiness check on that cache covers them.
func (b *Builder[T]) Complete(mgr ctrl.Manager) error {
	r, err := b.Build(mgr)
	if err != nil {
		return err
	}
	primary := b.newObj()
	bld := builder.ControllerManagedBy(mgr).
		Named(b.name).
		For(primary, builder.WithPredicates(b.primaryPreds...))
	if b.concurrency > 0 {
		bld = bld.WithOptions(controller.Options{MaxConcurrentReconciles: b.concurrency})
	}
	cached := []client.Object{primary} // watched through the manager's cache
	for _, w := range b.watches {
		var h handler.EventHandler
		switch w.kind {
		case watchByReference:
			h = handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), b.newObj(), handler.OnlyControllerOwner())
		case watchByLabel:
			namespaced := w.opts.namespaced
			if namespaced == nil {
				n, err := apiutil.IsObjectNamespaced(primary, mgr.GetScheme(), mgr.GetRESTMapper())
				if err != nil {
					return fmt.Errorf("reconciler %s: scope of the primary (use NamespacedPrimary to set it): %w", b.name, err)
				}
				namespaced = &n
			}
			h = handler.EnqueueRequestsFromMapFunc(LabelMapper(w.labelKey, *namespaced))
		case watchMapped:
			h = handler.EnqueueRequestsFromMapFunc(w.mapFn)
		}
		if w.opts.stream != nil {
			if len(w.opts.predicates) > 0 || w.opts.cache != nil {
				return fmt.Errorf("reconciler %s: a FromStream watch of %T takes no predicates and no cache", b.name, w.obj)
			}
			gvk, err := apiutil.GVKForObject(w.obj, mgr.GetScheme())
			if err != nil {
				return fmt.Errorf("reconciler %s: kind of the streamed watch on %T: %w", b.name, w.obj, err)
			}
			bld = bld.WatchesRawSource(w.opts.stream.Source(gvk, h))
			continue
		}
		if w.opts.cache != nil {
			src, err := kindSource(w.opts.cache, mgr.GetScheme(), w.obj, w.opts.metadataOnly, h, w.opts.predicates...)
			if err != nil {
				return fmt.Errorf("reconciler %s: %w", b.name, err)
			}
			bld = bld.WatchesRawSource(src)
			continue
		}
		var opts []builder.WatchesOption
		if len(w.opts.predicates) > 0 {
			opts = append(opts, builder.WithPredicates(w.opts.predicates...))
		}
		watched := w.obj
		if w.opts.metadataOnly {
			opts = append(opts, builder.OnlyMetadata)
			gvk, err := apiutil.GVKForObject(w.obj, mgr.GetScheme())
			if err != nil {
				return fmt.Errorf("reconciler %s: kind of the metadata-only watch on %T: %w", b.name, w.obj, err)
			}
			watched = metadataOf(gvk)
		}
		bld = bld.Watches(w.obj, h, opts...)
		cached = append(cached, watched)
	}
	c, err := bld.Build(r)
	if err != nil {
		return err
	}
	// Create the informers now rather than when the controller starts (after leader
	// election): they start and sync with the manager's cache, on every replica, so
	// a readiness check on the cache (WaitForCacheSync) means this controller can
	// start at once, and a new leader starts warm. Best effort: a kind the API
	// server cannot map yet (a CRD not installed) gets its informer when the
	// controller starts, as without this.
	for _, obj := range cached {
		if _, err := mgr.GetCache().GetInformer(context.Background(), obj, cache.BlockUntilSynced(false)); err != nil {
			mgr.GetLogger().WithValues("controller", b.name).V(1).Info("informer not created ahead of the controller", "type", fmt.Sprintf("%T", obj), "error", err.Error())
		}
	}
	b.ctrl = c
	return nil
}

// Controller returns the controller registered by Complete (nil before Complete
// succeeded). Use it to watch kinds discovered at run time; a watch added after the
// manager started starts at once:
//
//	if err := b.Complete(mgr); err != nil { ... }
//	c := b.Controller()
//	onNewKind(func(gvk schema.GroupVersionKind) error {
//		return c.Watch(reconciler.MetadataWatch(metaCache, gvk, mapFn))
//	})
func (b *Builder[T]) Controller() controller.Controller { return b.ctrl }

// LabelMapper maps an object to the primary named by the value of labelKey: in the
// object's namespace when namespaced is true, cluster-scoped otherwise. Objects
// without the label map to nothing. It is the map function behind OwnsByLabel.
func LabelMapper(labelKey string, namespaced bool) func(ctx context.Context, obj client.Object) []reconcile.Request {
	return func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[labelKey]
		if name == "" {
			return nil
		}
		key := types.NamespacedName{Name: name}
		if namespaced {
			key.Namespace = obj.GetNamespace()
		}
		return []reconcile.Request{{NamespacedName: key}}
	}
}

func applyWatchOptions(opts []WatchOption) watchOptions {
	var o watchOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}
