package reconciler_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
)

var _ = It("creates the informers of its watches with the manager's cache, before leader election", func() {
	ctx := context.Background()
	// Another replica holds the lease for the whole test: this manager's
	// controllers never start, only its caches do.
	now := metav1.NewMicroTime(time.Now())
	Expect(k8s.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "warm-test"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("other-replica"), LeaseDurationSeconds: ptr.To[int32](3600),
			AcquireTime: &now, RenewTime: &now},
	})).To(Succeed())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          true,
		LeaderElectionID:        "warm-test",
		LeaderElectionNamespace: "default",
		// A read of a type without an informer fails instead of creating one.
		Cache: cache.Options{ReaderFailOnMissingInformer: true},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(reconciler.For("warm", func() *Widget { return &Widget{} }).
		Steps(configMapSet().Step()).
		OwnsByLabel(&corev1.ConfigMap{}, widgetLabel, reconciler.NamespacedPrimary(false)).
		Watches(&corev1.Namespace{}, func(context.Context, client.Object) []reconcile.Request { return nil }).
		Complete(mgr)).To(Succeed())

	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	syncCtx, cancelSync := context.WithTimeout(ctx, 30*time.Second)
	defer cancelSync()
	Expect(mgr.GetCache().WaitForCacheSync(syncCtx)).To(BeTrue())
	Consistently(mgr.Elected()).WithTimeout(time.Second).ShouldNot(BeClosed())

	c := mgr.GetCache()
	Expect(c.List(ctx, &WidgetList{})).To(Succeed(), "the primary's informer")
	Expect(c.List(ctx, &corev1.ConfigMapList{})).To(Succeed(), "the children's informer")
	Expect(c.List(ctx, &corev1.NamespaceList{})).To(Succeed(), "the watch's informer")
	Expect(c.List(ctx, &corev1.SecretList{})).To(MatchError(ContainSubstring("not cached")), "an unwatched type")
})
