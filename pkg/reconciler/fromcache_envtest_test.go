package reconciler_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// The primary is a labelled ConfigMap (a statusless built-in); it names its input in
// the annotation "test.courier.dev/input". The manager's cache selects ConfigMaps
// and Secrets by label, as Courier's does, so the unlabelled inputs are only
// visible through another cache or a metadata stream.
const (
	fcSelectLabel = "test.courier.dev/selected"
	fcInputAnno   = "test.courier.dev/input"
)

// inputMapper maps an input (seen as metadata) to the primaries naming it.
func inputMapper(c client.Reader) func(ctx context.Context, obj client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		if _, ok := obj.(*metav1.PartialObjectMetadata); !ok {
			return nil // a metadata watch must deliver metadata only
		}
		var primaries corev1.ConfigMapList
		if err := c.List(ctx, &primaries, client.InNamespace(obj.GetNamespace())); err != nil {
			return nil
		}
		var out []reconcile.Request
		for _, p := range primaries.Items {
			if p.Annotations[fcInputAnno] == obj.GetName() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
			}
		}
		return out
	}
}

// otherSource is a way to watch what the manager's cache hides: the option for a
// declared watch, and the source of a watch added at run time.
type otherSource struct {
	name     string // of the controller: names are unique per process
	declared []reconciler.WatchOption
	runtime  func(gvk schema.GroupVersionKind, mapFn handler.MapFunc) source.Source
}

// metadataCacheFor adds a metadata cache of its own to mgr, started with the
// manager's caches.
func metadataCacheFor(mgr ctrl.Manager) cache.Cache {
	c, err := cache.New(mgr.GetConfig(), cache.Options{HTTPClient: mgr.GetHTTPClient(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	Expect(err).NotTo(HaveOccurred())
	Expect(mgr.Add(cacheRunnable{c})).To(Succeed())
	return c
}

// cacheRunnable makes the manager start the cache in its caches group.
type cacheRunnable struct{ cache.Cache }

func (r cacheRunnable) GetCache() cache.Cache { return r.Cache }

var _ = Describe("Watching through another cache or a metadata stream", func() {
	DescribeTable("delivers metadata events of objects the manager's cache hides, declared and added at run time", func(via func(mgr ctrl.Manager) otherSource) {
		ctx := context.Background()
		selected := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{fcSelectLabel: "yes"})}
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                 newScheme(),
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
			Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
				&corev1.ConfigMap{}: selected,
				&corev1.Secret{}:    selected,
			}},
		})
		Expect(err).NotTo(HaveOccurred())
		other := via(mgr)

		var mu sync.Mutex
		reconciles := map[types.NamespacedName]int{}
		count := func(key types.NamespacedName) int {
			mu.Lock()
			defer mu.Unlock()
			return reconciles[key]
		}
		b := reconciler.For(other.name, func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
			Steps(reconciler.Sync("count", func(_ context.Context, s *reconciler.State[*corev1.ConfigMap]) error {
				mu.Lock()
				defer mu.Unlock()
				reconciles[client.ObjectKeyFromObject(s.Object)]++
				return nil
			})).
			Watches(&corev1.Secret{}, inputMapper(mgr.GetClient()), other.declared...)
		Expect(b.Controller()).To(BeNil())
		Expect(b.Complete(mgr)).To(Succeed())
		Expect(b.Controller()).NotTo(BeNil())

		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(mctx)).To(Succeed())
		}()

		ns := freshNamespaces(ctx, 1)[0]
		primary := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: "app",
			Labels:      map[string]string{fcSelectLabel: "yes"},
			Annotations: map[string]string{fcInputAnno: "input"},
		}}
		Expect(k8s.Create(ctx, primary)).To(Succeed())
		key := client.ObjectKeyFromObject(primary)
		Eventually(func() int { return count(key) }).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 1))

		// Declared watch: an unlabelled Secret (invisible to the manager's cache).
		before := count(key)
		Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "input"}})).To(Succeed())
		Eventually(func() int { return count(key) }).WithTimeout(30 * time.Second).Should(BeNumerically(">", before))

		// Run-time watch, added after the manager started: unlabelled ConfigMaps.
		Expect(b.Controller().Watch(other.runtime(corev1.SchemeGroupVersion.WithKind("ConfigMap"), inputMapper(mgr.GetClient())))).To(Succeed())
		before = count(key)
		Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "input"}})).To(Succeed())
		Eventually(func() int { return count(key) }).WithTimeout(30 * time.Second).Should(BeNumerically(">", before))

		// The primary is statusless: nothing was ever written to it.
		got := &corev1.ConfigMap{}
		Expect(k8s.Get(ctx, key, got)).To(Succeed())
		Expect(got.ResourceVersion).To(Equal(primary.ResourceVersion))
	},
		Entry("a metadata cache (FromCache, MetadataOnly; MetadataWatch)", func(mgr ctrl.Manager) otherSource {
			meta := metadataCacheFor(mgr)
			return otherSource{
				name:     "fromcache",
				declared: []reconciler.WatchOption{reconciler.MetadataOnly(), reconciler.FromCache(meta)},
				runtime: func(gvk schema.GroupVersionKind, mapFn handler.MapFunc) source.Source {
					return reconciler.MetadataWatch(meta, gvk, mapFn)
				},
			}
		}),
		Entry("metadata streams (FromStream; Hub.Source)", func(mgr ctrl.Manager) otherSource {
			hub, err := metastream.ForManager(mgr)
			Expect(err).NotTo(HaveOccurred())
			return otherSource{
				name:     "fromstream",
				declared: []reconciler.WatchOption{reconciler.FromStream(hub)},
				runtime: func(gvk schema.GroupVersionKind, mapFn handler.MapFunc) source.Source {
					return hub.Source(gvk, handler.EnqueueRequestsFromMapFunc(mapFn))
				},
			}
		}),
	)

	It("rejects a metadata-only watch of a type the scheme does not know", func() {
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                 newScheme(),
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
		})
		Expect(err).NotTo(HaveOccurred())
		meta := metadataCacheFor(mgr)
		err = reconciler.For("fromcache-unknown", func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
			Watches(&unknownObject{}, inputMapper(mgr.GetClient()), reconciler.MetadataOnly(), reconciler.FromCache(meta)).
			Complete(mgr)
		Expect(err).To(MatchError(ContainSubstring("metadata-only watch")))
	})
})

// unknownObject is a client.Object no scheme knows.
type unknownObject struct{ corev1.ConfigMap }

func (u *unknownObject) DeepCopyObject() runtime.Object {
	return &unknownObject{*u.ConfigMap.DeepCopy()}
}

var _ = It("rejects predicates on a streamed watch", func() {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 newScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	Expect(err).NotTo(HaveOccurred())
	hub, err := metastream.ForManager(mgr)
	Expect(err).NotTo(HaveOccurred())
	err = reconciler.For("stream-predicates", func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
		Watches(&corev1.Secret{}, inputMapper(mgr.GetClient()), reconciler.FromStream(hub), reconciler.WithPredicates(predicate.LabelChangedPredicate{})).
		Complete(mgr)
	Expect(err).To(MatchError(ContainSubstring("takes no predicates")))
})
