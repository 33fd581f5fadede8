package propagation

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/internal/authzpolicy"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/test/testenv"
)

// The suite runs the real controllers in a manager that acts as Courier's
// ServiceAccount, bound only to the manager's ClusterRole as rendered from the RBAC
// markers (config/rbac/role.yaml), so every spec also proves the markers grant
// enough and nothing more is needed.
const (
	managerNamespace = "courier-system"
	managerSA        = "courier"
	managerUser      = "system:serviceaccount:" + managerNamespace + ":" + managerSA
)

var (
	env      *envtest.Environment
	admin    client.Client // cluster admin, uncached: what a user does
	scheme   *runtime.Scheme
	writes   *writeCounter
	mgr      ctrl.Manager
	cancelMg context.CancelFunc
	testOpts = Options{ExcludedNamespaces: append([]string{"restricted-*"}, DefaultExcludedNamespaces...), ChildParallelism: 16}
)

func TestPropagation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Propagation controllers (envtest)")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())

	scheme = courierscheme.New()
	admin, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	ctx := context.Background()
	grantManagerRole(ctx)
	// As installed: the admission policy that checks propagations' authors.
	Expect(authzpolicy.Install(ctx, admin, managerNamespace)).To(Succeed())

	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.Impersonate = rest.ImpersonationConfig{UserName: managerUser}
	mgrCfg.QPS, mgrCfg.Burst = 500, 1000
	writes = newWriteCounter(scheme)
	mgr, err = ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache: cache.Options{
			ByObject:         CacheByObject(),
			DefaultTransform: cache.TransformStripManagedFields(),
		},
		NewClient: func(c *rest.Config, o client.Options) (client.Client, error) {
			cl, err := client.New(c, o)
			if err != nil {
				return nil, err
			}
			return writes.wrap(cl), nil
		},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	// The real Guard, reading as the manager (so its RBAC marker is proven too), with
	// a short memory so the specs that remove the policy need not wait 30 s.
	testOpts.Takeover = &authzpolicy.Guard{Reader: mgr.GetAPIReader(), Mapper: mgr.GetRESTMapper(), TTL: time.Second}
	testOpts.Streams, err = metastream.NewForManager(mgr)
	Expect(err).NotTo(HaveOccurred())
	Expect(SetupWithManager(mgr, testOpts)).To(Succeed())
	var mctx context.Context
	mctx, cancelMg = context.WithCancel(context.Background())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if cancelMg != nil {
		cancelMg()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// grantManagerRole creates Courier's ServiceAccount and binds it to the role
// rendered from the RBAC markers.
func grantManagerRole(ctx context.Context) {
	Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}})).To(Succeed())
	Expect(admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: managerSA, Namespace: managerNamespace}})).To(Succeed())
	// The manager's real role, rendered by `make manifests` from every controller's
	// markers (and checked for drift by make verify).
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var role rbacv1.ClusterRole
	Expect(yaml.Unmarshal(raw, &role)).To(Succeed())
	Expect(admin.Create(ctx, &role)).To(Succeed())
	bindToManager(ctx, role.Name)
}

// bindToManager binds a ClusterRole to Courier's ServiceAccount.
func bindToManager(ctx context.Context, role string) {
	Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: managerSA, Namespace: managerNamespace}},
	})).To(Succeed())
}

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

func init() {
	SetDefaultEventuallyTimeout(timeout)
	SetDefaultEventuallyPollingInterval(interval)
	SetDefaultConsistentlyDuration(2 * time.Second)
	SetDefaultConsistentlyPollingInterval(interval)
}
