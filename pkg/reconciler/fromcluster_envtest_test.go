package reconciler_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/courier-operator/courier/pkg/reconciler"
)

var _ = It("reads and watches the primary through its own cache (FromCluster), added after the manager started", func() {
	ctx := context.Background()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 newScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		// A read of a type without an informer fails instead of creating one.
		Cache: cache.Options{ReaderFailOnMissingInformer: true},
	})
	Expect(err).NotTo(HaveOccurred())
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	Eventually(mgr.Elected()).Should(BeClosed())

	// Only ConfigMaps labelled pick=yes are in the controller's cache.
	picked, err := cluster.New(cfg, func(o *cluster.Options) {
		o.Scheme = mgr.GetScheme()
		o.Cache.DefaultLabelSelector = labels.SelectorFromSet(labels.Set{"pick": "yes"})
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(mgr.Add(picked)).To(Succeed())
	var (
		mu       sync.Mutex
		seen     = map[string]int{}
		readMiss error
	)
	Expect(reconciler.For("picked", func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
		FromCluster(picked).
		Steps(reconciler.Sync("see", func(ctx context.Context, s *reconciler.State[*corev1.ConfigMap]) error {
			mu.Lock()
			defer mu.Unlock()
			seen[s.Object.Name]++
			// The step's client reads from the same cache: the unpicked one is not there.
			readMiss = s.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "plain"}, &corev1.ConfigMap{})
			return nil
		})).
		Complete(mgr)).To(Succeed())

	for name, l := range map[string]map[string]string{"chosen": {"pick": "yes"}, "plain": nil} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: l}}
		Expect(k8s.Create(ctx, cm)).To(Succeed())
		DeferCleanup(func() { Expect(k8s.Delete(ctx, cm)).To(Succeed()) })
	}
	Eventually(func() int { mu.Lock(); defer mu.Unlock(); return seen["chosen"] }).Should(BeNumerically(">=", 1))
	Consistently(func() int { mu.Lock(); defer mu.Unlock(); return seen["plain"] }, 2*time.Second).Should(BeZero())
	mu.Lock()
	Expect(apierrors.IsNotFound(readMiss)).To(BeTrue(), "read through the selected cache: %v", readMiss)
	mu.Unlock()
	Expect(mgr.GetCache().List(ctx, &corev1.ConfigMapList{})).To(MatchError(ContainSubstring("not cached")),
		"the manager's cache holds no ConfigMaps")
})
