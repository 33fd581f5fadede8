package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/courier-operator/courier/test/e2e/framework"
)

var (
	env  *framework.Env
	root string
	// workDir holds rendered catalogs, kubeconfigs, binaries and operator logs.
	workDir string
)

func TestE2E(t *testing.T) {
	if os.Getenv("E2E") != "1" {
		t.Skip("end-to-end suite: set E2E=1 (starts a local cluster with OLM, or E2E_CLUSTER=existing uses KUBECONFIG)")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Courier end-to-end")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	root, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	workDir = os.Getenv("E2E_WORK_DIR")
	if workDir == "" {
		workDir = GinkgoT().TempDir()
	}
	Expect(os.MkdirAll(workDir, 0o755)).To(Succeed())
	start := time.Now()
	env, err = framework.NewEnv(ctx, root, os.Stderr)
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry("cluster start (incl. OLM)", time.Since(start).Round(time.Millisecond).String())
	if env.Local != nil {
		GinkgoWriter.Printf("local cluster in %s; KUBECONFIG=%s\n", env.Local.Dir(), env.Kubeconfig)
	}
}, NodeTimeout(20*time.Minute))

var _ = AfterSuite(func() {
	Expect(env.Stop()).To(Succeed())
})

// timed records how long a step took as a report entry and in the output.
func timed(name string, start time.Time) {
	d := time.Since(start).Round(time.Millisecond)
	AddReportEntry(name, d.String())
	GinkgoWriter.Printf("TIMING %s: %s\n", name, d)
}
