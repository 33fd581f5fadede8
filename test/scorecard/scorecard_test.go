package scorecard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/courier-operator/courier/test/testenv"
)

// TestScorecardAgainstCourier builds Courier's manager and the scorecard test
// binary, runs the manager against an envtest control plane, runs every custom
// scorecard test the way the scorecard pod would (but with --kubeconfig and
// --bundle), and wants each to print a passing v1alpha3 TestStatus.
func TestScorecardAgainstCourier(t *testing.T) {
	root := testenv.RepoRoot()
	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := env.AddUser(envtest.User{Name: "scorecard-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}

	courier := goBuild(t, root, dir, "./cmd/courier")
	tests := goBuild(t, root, dir, "./test/scorecard/cmd/courier-scorecard-tests")

	ctx, cancel := context.WithCancel(context.Background())
	manager := exec.CommandContext(ctx, courier,
		"--leader-elect=false", "--metrics-bind-address=0", "--health-probe-bind-address=0",
		"--rollout-coalesce-window=1s")
	manager.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath)
	var logs lockedBuffer
	manager.Stdout, manager.Stderr = &logs, &logs
	manager.Cancel = func() error { return manager.Process.Signal(os.Interrupt) }
	manager.WaitDelay = 10 * time.Second
	if err := manager.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- manager.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("courier manager logs:\n%s", logs.String())
		}
	})

	for _, name := range []string{"propagation", "rollout"} {
		t.Run(name, func(t *testing.T) {
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				t.Fatalf("the courier manager exited (%v) before the %s test: see its logs below", err, name)
			default:
			}
			cmd := exec.Command(tests, name, "--bundle", filepath.Join(root, "bundle"),
				"--kubeconfig", kubeconfigPath, "--timeout", "60s", "--settle", "4s")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, stderr.String())
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			var status v1alpha3.TestStatus
			if err := dec.Decode(&status); err != nil {
				t.Fatalf("output is not a v1alpha3 TestStatus: %v\n%s", err, out)
			}
			if len(status.Results) != 1 {
				t.Fatalf("want one result, got %d", len(status.Results))
			}
			res := status.Results[0]
			if res.Name != "courier-"+name || res.State != v1alpha3.PassState {
				t.Errorf("%s: state %q, errors %v, suggestions %v\nlog:\n%s", res.Name, res.State, res.Errors, res.Suggestions, res.Log)
			}
		})
	}
}

// goBuild builds a package of the repository into dir and returns the binary.
func goBuild(t *testing.T, root, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// lockedBuffer collects the manager's output from its two streams.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
