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
	"sigs.k8s.io/controller-runtime/pkg/cluster"
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
//		OwnsByLabel(&corev1.ConfigMap{}, "example.com/widget").
//		Complete(mgr)
type Builder[T client.Object] struct {
	name         string
	newObj       func() T
	steps        []Step[T]
	owns         []ownsSpec
	watches      []watchSpec
	streams      []streamSpec
	primaryPreds []predicate.Predicate
	concurrency  int
	status       func(ctx context.Context, s *State[T])
	gone         func(ctx context.Context, key types.NamespacedName)
	metrics      *Metrics
	cluster      cluster.Cluster       // FromCluster; nil: the manager's cache
	ctrl         controller.Controller // set by Complete
}

type ownsSpec struct {
	obj      client.Object
	labelKey string
	opts     ownsOptions
}

type watchSpec struct {
	obj   client.Object
	mapFn handler.MapFunc
	opts  watchesOptions
}

type streamSpec struct {
	obj    client.Object
	stream EventStream
	mapFn  handler.MapFunc
}

// For starts the declaration of a controller named name reconciling primaries of
// type T. newObj returns an empty primary (e.g. func() *Widget { return &Widget{} }).
// The name is used for metrics, logs and as the event reporting controller; it must
// be a valid Kubernetes qualified name.
func For[T client.Object](name string, newObj func() T) *Builder[T] {
	return &Builder[T]{name: name, newObj: newObj}
}

// Steps appends steps; they run in order, and a reconcile stops at the first that
// returns an error (see All for steps that must all run).
func (b *Builder[T]) Steps(steps ...Step[T]) *Builder[T] {
	b.steps = append(b.steps, steps...)
	return b
}

// OwnsByLabel watches children carrying labelKey: an event on a child enqueues the
// primary named by the label's value (in the child's namespace if the primary is
// namespaced, cluster-scoped otherwise; see NamespacedPrimary). The children are
// watched through the manager's cache: list them from it too (a ChildSet's default),
// so an event is never delivered before the cache a ChildSet lists from shows it.
func (b *Builder[T]) OwnsByLabel(obj client.Object, labelKey string, opts ...OwnsOption) *Builder[T] {
	s := ownsSpec{obj: obj, labelKey: labelKey}
	for _, o := range opts {
		o.applyToOwns(&s.opts)
	}
	b.owns = append(b.owns, s)
	return b
}

// Watches watches any object through the manager's cache; mapFn turns its events
// into primary requests.
func (b *Builder[T]) Watches(obj client.Object, mapFn handler.MapFunc, opts ...WatchesOption) *Builder[T] {
	s := watchSpec{obj: obj, mapFn: mapFn}
	for _, o := range opts {
		o.applyToWatches(&s.opts)
	}
	b.watches = append(b.watches, s)
	return b
}

// WatchesStream watches obj's kind through an EventStream instead of a cache: the
// map function receives *metav1.PartialObjectMetadata, and no object of the kind is
// kept in memory. Use it for kinds with many objects the controller does not
// otherwise read from a cache, e.g. every Secret of the cluster when only a few are
// sources (see pkg/metastream for how its events differ from an informer's). A
// stream has no previous state for predicates to compare, so it takes none.
func (b *Builder[T]) WatchesStream(obj client.Object, stream EventStream, mapFn handler.MapFunc) *Builder[T] {
	b.streams = append(b.streams, streamSpec{obj: obj, stream: stream, mapFn: mapFn})
	return b
}

// WithPrimaryPredicates filters the events of the primary itself.
func (b *Builder[T]) WithPrimaryPredicates(p ...predicate.Predicate) *Builder[T] {
	b.primaryPreds = append(b.primaryPreds, p...)
	return b
}

// FromCluster reads and watches the primary through cl (its cache and its client)
// instead of the manager's: a cache of its own, with its own label selector, for a
// kind the manager's cache was not configured for, such as a custom resource whose
// CRD appeared after the manager started (the manager's cache cannot select a kind
// it could not map when it was built). cl must be added to the manager (mgr.Add)
// so it starts and syncs with it. Owned and watched kinds still go through the
// manager's cache.
func (b *Builder[T]) FromCluster(cl cluster.Cluster) *Builder[T] {
	b.cluster = cl
	return b
}

// Concurrency sets the number of concurrent reconciles (default 1).
func (b *Builder[T]) Concurrency(n int) *Builder[T] {
	b.concurrency = n
	return b
}

// Status sets a hook that computes primary-specific status fields (counts, lists of
// failures...) from what the steps left in the State (ChildSetStep.Report, Keys).
// It runs after the steps, on every reconcile that did not release the primary,
// right before conditions are computed and status is written once.
func (b *Builder[T]) Status(fn func(ctx context.Context, s *State[T])) *Builder[T] {
	b.status = fn
	return b
}

// Gone sets a hook run when a reconcile finds the primary gone (NotFound), for
// state the controller keeps per primary outside the API server (a gauge of
// workloads waiting, say): a primary deleted without a finalizer is reconciled once
// more, then never again.
func (b *Builder[T]) Gone(fn func(ctx context.Context, key types.NamespacedName)) *Builder[T] {
	b.gone = fn
	return b
}

// Metrics records the reconciler's metrics in m (see NewMetrics). Without it none
// are recorded.
func (b *Builder[T]) Metrics(m *Metrics) *Builder[T] {
	b.metrics = m
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

// Build returns the reconciler, wired to the manager's client (or FromCluster's), API
// reader, scheme and an events.k8s.io recorder named after the controller. It
// registers no watches; see Complete.
func (b *Builder[T]) Build(mgr ctrl.Manager) (reconcile.TypedReconciler[reconcile.Request], error) {
	c := mgr.GetClient()
	if b.cluster != nil {
		c = b.cluster.GetClient()
	}
	return b.BuildWith(Deps{
		Client:   c,
		Reader:   mgr.GetAPIReader(),
		Scheme:   mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder(b.name),
	})
}

// BuildWith returns the reconciler built from explicit dependencies, without a
// manager (used by tests). It validates the declaration, every step included, so a
// malformed ChildSet fails here, once, not on every reconcile.
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
	steps := sequence[T](b.steps)
	if err := steps.validate(); err != nil {
		return nil, fmt.Errorf("reconciler %s: %w", b.name, err)
	}
	deps = deps.withDefaults()
	return &primaryReconciler[T]{
		name:    b.name,
		newObj:  b.newObj,
		steps:   steps,
		status:  b.status,
		gone:    b.gone,
		deps:    deps,
		metrics: b.metrics,
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
	bld := builder.ControllerManagedBy(mgr).Named(b.name)
	var cached []client.Object // watched through the manager's cache
	if b.cluster != nil {
		bld = bld.WatchesRawSource(source.Kind(b.cluster.GetCache(), client.Object(primary), &handler.EnqueueRequestForObject{}, b.primaryPreds...))
		warmInformer(b.cluster.GetCache(), mgr.GetLogger().WithValues("controller", b.name), primary)
	} else {
		bld = bld.For(primary, builder.WithPredicates(b.primaryPreds...))
		cached = append(cached, primary)
	}
	if b.concurrency > 0 {
		bld = bld.WithOptions(controller.Options{MaxConcurrentReconciles: b.concurrency})
	}
	for _, o := range b.owns {
		namespaced := o.opts.namespaced
		if namespaced == nil {
			n, err := apiutil.IsObjectNamespaced(primary, mgr.GetScheme(), mgr.GetRESTMapper())
			if err != nil {
				return fmt.Errorf("reconciler %s: scope of the primary (use NamespacedPrimary to set it): %w", b.name, err)
			}
			namespaced = &n
		}
		mapFn, err := observing(r, mgr.GetScheme(), o.obj, LabelMapper(o.labelKey, *namespaced))
		if err != nil {
			return fmt.Errorf("reconciler %s: %w", b.name, err)
		}
		bld = bld.Watches(o.obj, handler.EnqueueRequestsFromMapFunc(mapFn))
		cached = append(cached, o.obj)
	}
	for _, w := range b.watches {
		bld = bld.Watches(w.obj, handler.EnqueueRequestsFromMapFunc(w.mapFn), builder.WithPredicates(w.opts.predicates...))
		cached = append(cached, w.obj)
	}
	for _, s := range b.streams {
		gvk, err := apiutil.GVKForObject(s.obj, mgr.GetScheme())
		if err != nil {
			return fmt.Errorf("reconciler %s: kind of the streamed watch on %T: %w", b.name, s.obj, err)
		}
		bld = bld.WatchesRawSource(s.stream.Source(gvk, handler.EnqueueRequestsFromMapFunc(s.mapFn)))
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
	warmInformer(mgr.GetCache(), mgr.GetLogger().WithValues("controller", b.name), cached...)
	b.ctrl = c
	return nil
}

// warmInformer creates the informers of objs in c without waiting for them to sync.
func warmInformer(c cache.Cache, log logr.Logger, objs ...client.Object) {
	for _, obj := range objs {
		if _, err := c.GetInformer(context.Background(), obj, cache.BlockUntilSynced(false)); err != nil {
			log.V(1).Info("informer not created ahead of the controller", "type", fmt.Sprintf("%T", obj), "error", err.Error())
		}
	}
}

// Controller returns the controller registered by Complete (nil before Complete
// succeeded). Use it to watch kinds discovered at run time; a watch added after the
// manager started starts at once:
//
//	if err := b.Complete(mgr); err != nil { ... }
//	c := b.Controller()
//	onNewKind(func(gvk schema.GroupVersionKind) error {
//		return c.Watch(hub.Source(gvk, handler.EnqueueRequestsFromMapFunc(mapFn)))
//	})
func (b *Builder[T]) Controller() controller.Controller { return b.ctrl }

// observing wraps the map function of the children of kind obj so every event of
// a child also reaches the reconciler's child memos (childMemos.observed): a child
// it created is then known to be in the cache, or gone, from its first event on.
func observing(r reconcile.TypedReconciler[reconcile.Request], scheme *runtime.Scheme, obj client.Object, mapFn handler.MapFunc) (handler.MapFunc, error) {
	pr, ok := r.(interface{ memos() *childMemos })
	if !ok {
		return mapFn, nil
	}
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return nil, fmt.Errorf("kind of the children %T: %w", obj, err)
	}
	memos := pr.memos()
	if memos.watched == nil {
		memos.watched = map[schema.GroupVersionKind]bool{}
	}
	memos.watched[gvk] = true
	return func(ctx context.Context, child client.Object) []reconcile.Request {
		memos.observed(gvk, client.ObjectKeyFromObject(child))
		return mapFn(ctx, child)
	}, nil
}

// LabelMapper maps an object to the primary named by the value of labelKey: in the
// object's namespace when namespaced is true, cluster-scoped otherwise. Objects
// without the label map to nothing. It is the map function behind OwnsByLabel.
func LabelMapper(labelKey string, namespaced bool) handler.MapFunc {
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
