package rollout_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/controllers/rollout"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/test/testenv"
)

// window is the coalescing window of the managers under test: short, so specs run
// fast, but long enough that two back-to-back writes always land inside it.
const window = 1500 * time.Millisecond

var (
	env       *envtest.Environment
	restCfg   *rest.Config
	k8sClient client.Client
	// watchClient watches workloads to count their template changes.
	watchClient client.WithWatch
	scheme      *runtime.Scheme
)

func TestRollout(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "rollout controller (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	scheme = courierscheme.New()

	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// Argo Rollouts' own CRD, from the project's release through the module proxy.
	argo := GinkgoT().TempDir()
	Expect(testenv.ModuleFiles(argo, testenv.ArgoRolloutsModule, testenv.ArgoRolloutsCRD)).To(Succeed())
	env.CRDDirectoryPaths = append(env.CRDDirectoryPaths, argo)
	// The machine is shared by many builds: give the control plane time to start.
	env.ControlPlaneStartTimeout = 3 * time.Minute
	restCfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(restCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	watchClient, err = client.NewWithWatch(restCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// runningManager is a manager started by a spec; stop it to simulate an operator
// restart or a leader change.
type runningManager struct {
	cancel context.CancelFunc
	done   chan error
}

// startManager starts a manager with the rollout controller, configured like
// cmd/courier: managedFields stripped, workloads label-selected and — as the
// propagation controller requires — the manager's ConfigMap and Secret caches
// selected on Courier's managed-by label, which the rollout controller must not
// depend on. opts change the rollout options from the suite's.
func startManager(opts ...func(*rollout.Options)) *runningManager {
	byObject := rollout.CacheByObject()
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue})}
	byObject[&corev1.ConfigMap{}] = managed
	byObject[&corev1.Secret{}] = managed

	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: byObject},
	})
	Expect(err).NotTo(HaveOccurred())
	streams, err := metastream.NewForManager(mgr)
	Expect(err).NotTo(HaveOccurred())
	o := rollout.Options{Window: window, Streams: streams}
	for _, set := range opts {
		set(&o)
	}
	Expect(rollout.SetupWithManager(mgr, o)).To(Succeed())

	ctx, cancel := context.WithCancel(context.Background())
	m := &runningManager{cancel: cancel, done: make(chan error, 1)}
	go func() {
		defer GinkgoRecover()
		m.done <- mgr.Start(ctx)
	}()
	return m
}

// stop stops the manager and waits until it has returned.
func (m *runningManager) stop() {
	if m == nil || m.cancel == nil {
		return
	}
	m.cancel()
	Eventually(m.done, 30*time.Second).Should(Receive(BeNil()))
	m.cancel = nil
}
