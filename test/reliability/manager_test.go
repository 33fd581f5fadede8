package reliability

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/gomega"
)

// This file is the minimal part of a manager-process helper the suite needs: build
// ./cmd/courier once, start it as a separate process with the ServiceAccount's
// kubeconfig, SIGKILL or SIGTERM it, read its metrics and its log. (The bench's
// internal/managerproc was not there when this suite was written; switch to it
// once it lands.)

// manager is one running (or dead) Courier process.
type manager struct {
	name        string
	cmd         *exec.Cmd
	logPath     string
	metricsAddr string
	probeAddr   string
	done        chan struct{}
	exitErr     error
}

var (
	managersMu sync.Mutex
	managers   []*manager // every process started, for cleanup and the log scan
	procSeq    int
)

// baseManagerArgs are the flags every test manager gets: plain-HTTP metrics and
// probes on loopback ports, debug logs (the leak scan reads them), and a short
// graceful shutdown.
func baseManagerArgs(metrics, probe string) []string {
	return []string{
		"--metrics-bind-address=" + metrics,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + probe,
		"--zap-log-level=debug",
		"--graceful-shutdown-timeout=5s",
		"--rollout-coalesce-window=1s",
	}
}

// startManager starts a Courier process as the manager ServiceAccount and waits
// until its health probe answers.
func startManager(extraArgs ...string) *manager {
	managersMu.Lock()
	procSeq++
	name := fmt.Sprintf("courier-%02d", procSeq)
	managersMu.Unlock()
	m := &manager{name: name, metricsAddr: freeAddr(), probeAddr: freeAddr(), done: make(chan struct{}),
		logPath: filepath.Join(workDir, name+".log")}
	f, err := os.Create(m.logPath)
	Expect(err).NotTo(HaveOccurred())
	m.cmd = exec.Command(courierBin, append(baseManagerArgs(m.metricsAddr, m.probeAddr), extraArgs...)...)
	m.cmd.Stdout, m.cmd.Stderr = f, f
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+managerKubeconfig)
	// Pdeathsig: a crashed test run never leaves a manager behind.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	Expect(m.cmd.Start()).To(Succeed())
	go func() {
		m.exitErr = m.cmd.Wait()
		_ = f.Close()
		close(m.done)
	}()
	managersMu.Lock()
	managers = append(managers, m)
	managersMu.Unlock()
	Eventually(func() error {
		if !m.alive() {
			return StopTrying(m.name + " exited at start:\n" + m.tail(4000))
		}
		return httpGet("http://" + m.probeAddr + "/healthz")
	}, 60*time.Second, 100*time.Millisecond).Should(Succeed())
	return m
}

// alive reports whether the process has not exited.
func (m *manager) alive() bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

// pid is the process id.
func (m *manager) pid() int { return m.cmd.Process.Pid }

// kill sends SIGKILL: no graceful shutdown, no lease release, in-flight writes cut.
func (m *manager) kill() {
	if m.alive() {
		_ = syscall.Kill(m.pid(), syscall.SIGKILL)
	}
	<-m.done
}

// stop sends SIGTERM and waits (SIGKILL after 20 s).
func (m *manager) stop() {
	if !m.alive() {
		return
	}
	_ = syscall.Kill(m.pid(), syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(20 * time.Second):
		m.kill()
	}
}

// metrics returns the Prometheus text of the process.
func (m *manager) metrics() string {
	resp, err := http.Get("http://" + m.metricsAddr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// log returns the whole log of the process.
func (m *manager) log() string {
	b, _ := os.ReadFile(m.logPath)
	return string(b)
}

// tail returns the last n bytes of the log.
func (m *manager) tail(n int) string {
	l := m.log()
	if len(l) > n {
		return l[len(l)-n:]
	}
	return l
}

// isLeader reports whether the process logged that it acquired the lease.
func (m *manager) isLeader() bool {
	return strings.Contains(strings.ToLower(m.log()), "successfully acquired lease")
}

// killAll stops every process still running (AfterSuite, AfterAll).
func killAll() {
	managersMu.Lock()
	ms := append([]*manager(nil), managers...)
	managersMu.Unlock()
	for _, m := range ms {
		m.kill()
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}

func httpGet(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// buildCourier builds ./cmd/courier into dir.
func buildCourier(dir string) (string, error) {
	out := filepath.Join(dir, "courier")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/courier")
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/courier: %w: %s", err, b)
	}
	return out, nil
}
