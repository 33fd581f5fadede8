package cli_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/courier-operator/courier/controllers"
	"github.com/courier-operator/courier/internal/authzpolicy"
	"github.com/courier-operator/courier/internal/cli"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/test/testenv"
)

// update rewrites the golden files from the current output.
var update = flag.Bool("update", false, "rewrite testdata/*.golden from the output")

var (
	restCfg *rest.Config
	admin   client.Client
	// kubeconfig is a kubeconfig file for the control plane's admin, as a user has.
	kubeconfig string
)

// TestMain starts one control plane with Courier's controllers running in the
// process, as the manager runs them (default rollout options, so the CLI, which
// assumes the manager's defaults, decides as they do).
func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The controllers' logs, with -v only: they say why a state was not reached.
	logs := io.Discard
	if testing.Verbose() {
		logs = os.Stderr
	}
	logf.SetLogger(zap.New(zap.WriteTo(logs)))
	env, err := testenv.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if restCfg, err = env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if err := setup(env); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := startManager(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// setup writes the admin's kubeconfig and makes the admin client.
func setup(env *envtest.Environment) error {
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kubectl-courier")
	if err != nil {
		return err
	}
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	if admin, err = client.New(restCfg, client.Options{Scheme: courierscheme.New()}); err != nil {
		return err
	}
	// As installed: the admission policy that checks propagations' authors, without
	// which conflictPolicy Adopt (what migrate produces) syncs as Skip.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}
	if err := admin.Create(context.Background(), ns); err != nil {
		return err
	}
	return authzpolicy.Install(context.Background(), admin, managerNamespace)
}

// managerNamespace is where the admission policy's parameters live, as installed.
const managerNamespace = "courier-system"

// startManager runs every Courier controller against the control plane.
func startManager(ctx context.Context) error {
	byObject, err := controllers.CacheByObject()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:     courierscheme.New(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: byObject},
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		return err
	}
	if err := controllers.Setup(mgr, controllers.Options{}); err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	return nil
}

// result is one run of kubectl-courier.
type result struct {
	stdout, stderr string
	code           int
}

// kubectlCourier runs the plugin's command tree in the process, as `kubectl courier
// ARGS` would, against the test's control plane.
func kubectlCourier(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := cli.NewCommand(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	err := cmd.ExecuteContext(t.Context())
	if msg := cli.Message(err); msg != "" {
		errOut.WriteString(msg + "\n")
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: cli.ExitCode(err)}
}

// Ages and timestamps move from run to run; the golden files hold placeholders.
var (
	ageRE  = regexp.MustCompile(`\b\d+(\.\d+)?[smhdy](\d+[smh])?\b`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
)

// normalize replaces what moves (timestamps, ages) with placeholders.
func normalize(s string) string {
	return ageRE.ReplaceAllString(timeRE.ReplaceAllString(s, "<time>"), "<age>")
}

// golden compares got with testdata/NAME.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = normalize(got)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./internal/cli -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// eventually polls cond until it holds or a minute passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute; last: %s", what, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
