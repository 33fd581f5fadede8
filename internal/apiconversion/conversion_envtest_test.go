package apiconversion_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/courier-operator/courier/internal/apiconversion"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/test/testenv"
)

var (
	c       client.Client
	restCfg *rest.Config
)

// TestMain upgrades a control plane as an install does. It starts with the CRDs an
// installed 0.1 has (config/crd/bases: v1alpha1 only), creates objects through
// v1alpha1 (stored so), then starts a manager that serves the conversion webhook
// and replaces the CRDs with config/crd/next (v1beta1 stored, v1alpha1 served,
// conversion by webhook at the address and with the CA envtest provides), as
// OLM or helm upgrade replaces them. What is real: the API server, its CRD
// handling and its calls to the webhook over TLS, the manager's webhook server and
// controller-runtime's conversion handler. What is not: the webhook is reached by
// URL on loopback, not through a Service (the install paths' routing is tested
// end to end).
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	env, err := testenv.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg, err := env.Start() // config/crd/bases, conversion None
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restCfg = cfg
	s := courierscheme.New()
	if c, err = client.New(cfg, client.Options{Scheme: s}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := createLegacyObjects(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "creating objects through 0.1's CRDs:", err)
		return 1
	}
	if err := startWebhook(ctx, cfg, env.WebhookInstallOptions); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "next")}, ErrorIfPathMissing: true,
		Scheme: s, WebhookOptions: env.WebhookInstallOptions, // conversion: Webhook for the kinds s converts
	}); err != nil {
		fmt.Fprintln(os.Stderr, "upgrading the CRDs:", err)
		return 1
	}
	return m.Run()
}

// startWebhook runs a manager serving the conversion webhook and waits until it
// accepts TLS connections.
func startWebhook(ctx context.Context, cfg *rest.Config, o envtest.WebhookInstallOptions) error {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  courierscheme.New(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir,
		}),
	})
	if err != nil {
		return err
	}
	if err := apiconversion.Setup(mgr); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	addr := net.JoinHostPort(o.LocalServingHost, strconv.Itoa(o.LocalServingPort))
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			return conn.Close()
		}
	}
	return fmt.Errorf("the webhook server at %s did not start", addr)
}
