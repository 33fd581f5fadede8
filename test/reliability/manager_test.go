package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/courier-operator/courier/test/managerproc"
)

// The suite's manager processes: ./cmd/courier built once (test/managerproc,
// like the release image), started as the manager ServiceAccount, SIGKILLed or
// SIGTERMed, with its metrics and its log at hand.

// manager is one running (or dead) Courier process.
type manager struct {
	name    string
	p       *managerproc.Process
	logPath string
}

var (
	managersMu sync.Mutex
	managers   []*manager // every process started, for cleanup and the log scan
	procSeq    int
)

// baseManagerArgs are the flags every test manager gets on top of managerproc's
// loopback, plain-HTTP metrics and probes: debug logs (the leak scan reads them), a
// short graceful shutdown and a short rollout window.
var baseManagerArgs = []string{
	"--zap-log-level=debug",
	"--graceful-shutdown-timeout=5s",
	"--rollout-coalesce-window=1s",
}

// startManager starts a Courier process as the manager ServiceAccount and waits
// until it is ready.
func startManager(extraArgs ...string) *manager {
	return startManagerWith(managerKubeconfig, extraArgs...)
}

// startManagerWith is startManager with another kubeconfig (the fault suite's
// route to the API server).
func startManagerWith(kubeconfig string, extraArgs ...string) *manager {
	managersMu.Lock()
	procSeq++
	name := fmt.Sprintf("courier-%02d", procSeq)
	var alive []string
	for _, o := range managers {
		if !o.p.Exited() {
			alive = append(alive, o.name)
		}
	}
	managersMu.Unlock()
	if !slices.Contains(extraArgs, "--leader-elect") {
		// Two managers without an election write the same objects: a spec that left
		// one running would double every count the next spec makes.
		Expect(alive).To(BeEmpty(), "%s would run alongside %v, left running by an earlier spec", name, alive)
	}
	m := &manager{name: name, logPath: filepath.Join(workDir, name+".log")}
	p, err := managerproc.Start(managerproc.Options{
		Binary: courierBin, Kubeconfig: kubeconfig, LogPath: m.logPath,
		Args: append(append([]string(nil), baseManagerArgs...), extraArgs...),
	})
	Expect(err).NotTo(HaveOccurred())
	m.p = p
	managersMu.Lock()
	managers = append(managers, m)
	managersMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	Expect(p.WaitReady(ctx)).To(Succeed(), "%s never became ready:\n%s", name, m.tail(4000))
	return m
}

// containerManager holds the manager process an Ordered container's specs share
// (sharedManager); its methods are the manager's.
type containerManager struct{ *manager }

// sharedManager starts a manager before the first spec of the Ordered container
// whose body calls it (a BeforeAll registered ahead of the container's own) and
// kills it once the container is done: a DeferCleanup of that BeforeAll, which
// runs after the container's AfterAll, so that one can still rely on Courier
// (deletions wait for its finalizer). The body runs before any BeforeAll, so the
// process is reached through the holder; a spec that replaces it (a restart) sets
// the holder's manager, and the cleanup kills that one.
func sharedManager() *containerManager {
	m := &containerManager{}
	BeforeAll(func() {
		m.manager = startManager()
		DeferCleanup(func() { m.kill() })
	})
	return m
}

// alive reports whether the process has not exited.
func (m *manager) alive() bool { return !m.p.Exited() }

// pid is the process id.
func (m *manager) pid() int { return m.p.PID() }

// kill sends SIGKILL: no graceful shutdown, no lease release, in-flight writes cut.
func (m *manager) kill() { m.p.Kill() }

// stop sends SIGTERM and waits (SIGKILL after 20 s).
func (m *manager) stop() { _ = m.p.Stop(20 * time.Second) }

// metrics returns the Prometheus text of the process.
func (m *manager) metrics() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text, _ := m.p.ScrapeText(ctx)
	return text
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

// buildCourier builds ./cmd/courier into dir.
func buildCourier(dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	return managerproc.Build(ctx, managerproc.BuildOptions{Dir: dir})
}
