package reliability

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/courier-operator/courier/internal/authzpolicy"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/test/testenv"
)

var (
	repoRoot = testenv.RepoRoot()
	cfgs     settings

	env     *envtest.Environment
	restCfg *rest.Config // cluster admin
	admin   client.Client
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	scheme  *runtime.Scheme

	workDir           string // logs, kubeconfigs, the manager binary
	courierBin        string
	managerKubeconfig string // the manager ServiceAccount's bearer-token kubeconfig

	// marker is put into the data of every Secret and ConfigMap the suite creates;
	// nothing Courier emits may ever contain it (or its base64).
	marker string
)

func init() {
	SetDefaultEventuallyTimeout(90 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	SetDefaultConsistentlyDuration(3 * time.Second)
	SetDefaultConsistentlyPollingInterval(200 * time.Millisecond)
}

func TestReliability(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Reliability and security (envtest + real manager processes)")
}

var _ = BeforeSuite(func() {
	cfgs = loadSettings()
	marker = "courier-leak-marker-" + randomHex(8)
	var err error
	workDir, err = os.MkdirTemp("", "courier-reliability-")
	Expect(err).NotTo(HaveOccurred())

	// Build the manager while the control plane starts.
	type buildResult struct {
		bin string
		err error
	}
	built := make(chan buildResult, 1)
	go func() {
		bin, err := buildCourier(workDir)
		built <- buildResult{bin, err}
	}()

	scheme = courierscheme.New()
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// A fixed certificate directory keeps the serving certificate, the client CA and
	// the ServiceAccount signing key across an API server restart (apiserver_test.go).
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: filepath.Join(workDir, "apiserver")}
	// No watch cache for Secrets: a watch resumed from a compacted revision is then
	// refused with 410 Gone, as on a cluster whose cache window has passed
	// (faults_test.go compacts etcd). ConfigMaps keep the cache, so both paths run.
	env.ControlPlane.APIServer.Configure().Set("watch-cache-sizes", "secrets#0")
	// kube-apiserver's graceful shutdown waits up to a minute for connected clients;
	// the restart spec does not: after this long it is SIGKILLed (stopAPIServer).
	env.ControlPlaneStopTimeout = 5 * time.Second
	Expect(os.MkdirAll(env.ControlPlane.APIServer.CertDir, 0o700)).To(Succeed())
	restCfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	restCfg.QPS, restCfg.Burst = 200, 400
	admin, err = client.New(restCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	kube = kubernetes.NewForConfigOrDie(restCfg)
	dyn = dynamic.NewForConfigOrDie(restCfg)

	ctx := context.Background()
	installRBAC(ctx)
	managerKubeconfig = serviceAccountKubeconfig(ctx, installNamespace, managerSA)
	b := <-built
	Expect(b.err).NotTo(HaveOccurred())
	courierBin = b.bin
	GinkgoWriter.Printf("settings: %+v, work dir %s\n", cfgs, workDir)
})

// anyFailed records a failed spec: the work directory (manager logs) is kept then.
var anyFailed bool

var _ = ReportAfterEach(func(r SpecReport) { anyFailed = anyFailed || r.Failed() })

var _ = AfterSuite(func() {
	killAll()
	if workDir != "" {
		defer func() {
			if anyFailed || os.Getenv("RELIABILITY_KEEP") != "" {
				fmt.Fprintf(os.Stdout, "manager logs and kubeconfigs kept in %s\n", workDir)
				return
			}
			_ = os.RemoveAll(workDir)
		}()
	}
	if env != nil {
		reportFigures()
		scanManagerLogs()
		if err := env.Stop(); err != nil {
			GinkgoWriter.Printf("stopping the control plane: %v\n", err) // killed after the stop timeout
		}
	}
})

// installRBAC creates the install namespace and applies config/rbac as
// config/default renders it: the manager runs with exactly that.
func installRBAC(ctx context.Context) {
	Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: installNamespace}})).To(Succeed())
	objs, err := rbacObjects(repoRoot)
	Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		Expect(admin.Create(ctx, o)).To(Succeed(), "applying %s %s", o.GetKind(), o.GetName())
	}
	// The admission policy that checks propagations' authors, as every install has it.
	Expect(authzpolicy.Install(ctx, admin, installNamespace)).To(Succeed())
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as ns/sa with a
// bearer token from the TokenRequest API (not as admin, not impersonated).
func serviceAccountKubeconfig(ctx context.Context, ns, sa string) string {
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](6 * 3600)},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	c := clientcmdapi.NewConfig()
	c.Clusters["envtest"] = &clientcmdapi.Cluster{Server: restCfg.Host, CertificateAuthorityData: restCfg.CAData}
	c.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	c.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: sa, Namespace: ns}
	c.CurrentContext = "envtest"
	path := filepath.Join(workDir, ns+"-"+sa+".kubeconfig")
	Expect(clientcmd.WriteToFile(*c, path)).To(Succeed())
	return path
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
