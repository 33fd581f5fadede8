package testenv

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the repository root, found from this file's location so tests in any
// package resolve config/ and hack/ the same way.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	assetsOnce sync.Once
	assetsDir  string
	assetsErr  error
)

// Assets returns the directory holding etcd, kube-apiserver and kubectl.
func Assets() (string, error) {
	assetsOnce.Do(func() {
		if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
			assetsDir = dir
			return
		}
		cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "control-plane-bins.sh"))
		cmd.Stderr = os.Stderr // a first build takes minutes: show why
		out, err := cmd.Output()
		if err != nil {
			assetsErr = fmt.Errorf("providing control-plane binaries: %w", err)
			return
		}
		assetsDir = strings.TrimSpace(string(out))
	})
	return assetsDir, assetsErr
}

// CRDPaths are the CRD directories of the project.
func CRDPaths() []string {
	return []string{filepath.Join(RepoRoot(), "config", "crd", "bases")}
}

// New returns an envtest environment with the project's CRDs installed and the
// binaries from Assets. Start it with env.Start() and stop it with env.Stop().
func New() (*envtest.Environment, error) {
	dir, err := Assets()
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     CRDPaths(),
		ErrorIfCRDPathMissing: true,
		// envtest's 20 s default is too short for a 2-core CI machine running several
		// suites at once; a slow start is not a failure.
		ControlPlaneStartTimeout: 3 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}, nil
}

// Start starts an environment from New for one test and stops it when the test
// ends. It returns the admin config and an HTTP client for it.
func Start(t testing.TB) (*rest.Config, *http.Client) {
	t.Helper()
	env, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, httpClient
}
