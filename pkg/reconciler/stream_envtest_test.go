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
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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

var _ = Describe("Watching through a metadata stream", func() {
	It("delivers metadata events of objects the manager's cache hides, declared and added at run time", func() {
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
		hub, err := metastream.NewForManager(mgr)
		Expect(err).NotTo(HaveOccurred())

		var mu sync.Mutex
		reconciles := map[types.NamespacedName]int{}
		count := func(key types.NamespacedName) int {
			mu.Lock()
			defer mu.Unlock()
			return reconciles[key]
		}
		b := reconciler.For("fromstream", func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
			Steps(reconciler.Sync("count", func(_ context.Context, s *reconciler.State[*corev1.ConfigMap]) error {
				mu.Lock()
				defer mu.Unlock()
				reconciles[client.ObjectKeyFromObject(s.Object)]++
				return nil
			})).
			WatchesStream(&corev1.Secret{}, hub, inputMapper(mgr.GetClient()))
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
		Expect(b.Controller().Watch(hub.Source(corev1.SchemeGroupVersion.WithKind("ConfigMap"),
			handler.EnqueueRequestsFromMapFunc(inputMapper(mgr.GetClient()))))).To(Succeed())
		before = count(key)
		Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "input"}})).To(Succeed())
		Eventually(func() int { return count(key) }).WithTimeout(30 * time.Second).Should(BeNumerically(">", before))

		// The primary is statusless: nothing was ever written to it.
		got := &corev1.ConfigMap{}
		Expect(k8s.Get(ctx, key, got)).To(Succeed())
		Expect(got.ResourceVersion).To(Equal(primary.ResourceVersion))
	})

	It("rejects a streamed watch of a type the scheme does not know", func() {
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                 newScheme(),
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
		})
		Expect(err).NotTo(HaveOccurred())
		hub, err := metastream.NewForManager(mgr)
		Expect(err).NotTo(HaveOccurred())
		err = reconciler.For("stream-unknown", func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
			WatchesStream(&unknownObject{}, hub, inputMapper(mgr.GetClient())).
			Complete(mgr)
		Expect(err).To(MatchError(ContainSubstring("kind of the streamed watch")))
	})
})

// unknownObject is a client.Object no scheme knows.
type unknownObject struct{ corev1.ConfigMap }

func (u *unknownObject) DeepCopyObject() runtime.Object {
	return &unknownObject{*u.ConfigMap.DeepCopy()}
}
