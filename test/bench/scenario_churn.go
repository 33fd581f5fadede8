package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/memrelease"
	"github.com/courier-operator/courier/test/managerproc"
)

// churnResult is the JSON detail of scenario 8.
type churnResult struct {
	Copies int `json:"copies"`
	// Before, With and After are the manager's memory before the copies existed,
	// with them, and after they were deleted again.
	Before, With, After memSnapshot
	CreateS             float64 `json:"create_s"`
	DeleteS             float64 `json:"delete_s"`
}

// memSnapshot is the manager's memory at one point, read after MemorySettle of
// idleness: the kernel's resident set and the Go runtime's view of it.
type memSnapshot struct {
	// PeakRSS is the process's VmHWM so far.
	PeakRSS   int64   `json:"peak_rss_bytes"`
	RSS       int64   `json:"rss_bytes"`
	RSSAnon   int64   `json:"rss_anon_bytes"`
	RSSFile   int64   `json:"rss_file_bytes"`
	HeapInuse float64 `json:"heap_inuse_bytes"`
	// HeapRetained is heap memory the runtime holds but does not use
	// (heap_idle - heap_released): garbage not yet given back to the kernel.
	HeapRetained float64 `json:"heap_retained_bytes"`
	Goroutines   float64 `json:"goroutines"`
	// Runtime is every go_memstats gauge the manager exports.
	Runtime map[string]float64 `json:"go_memstats"`
}

func (m memSnapshot) String() string {
	return fmt.Sprintf("RSS %s (heap in use %s, retained %s)", mib(float64(m.RSS)), mib(m.HeapInuse), mib(m.HeapRetained))
}

// churn runs scenario 8: memory after churn. Courier runs with the sources and
// target namespaces present; ChurnNamespaces × ChurnSources copies are made, then
// the propagations are deleted (Courier deletes every copy). Steady RSS afterwards
// must return to within maxChurnGrowth of the figure before the copies existed.
func (x *run) churn(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	cfg, r := x.cfg, x.r
	w := wave{name: "churn", namespaces: cfg.ChurnNamespaces, sources: cfg.ChurnSources, props: cfg.ChurnPropagations, bytes: cfg.SecretBytes}
	res := &churnResult{Copies: w.copies()}
	r.Scenarios["churn"] = res
	if err := w.setup(ctx, cp.c); err != nil {
		return err
	}
	profile, err := x.heapProfiler(ctx, &runner, "churn")
	if err != nil {
		return err
	}
	p, err := runner.start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	if err := w.warmUp(ctx, cp.c); err != nil {
		return err
	}
	if res.Before, err = x.settled(ctx, p, nil); err != nil {
		return err
	}
	x.logf("churn: before the copies: %s", res.Before)
	profile("before")

	took, err := w.fanOut(ctx, cp.c)
	if err != nil {
		return err
	}
	res.CreateS = took.Seconds()
	if res.With, err = x.settled(ctx, p, map[string]int{"clusterpropagation": w.props}); err != nil {
		return err
	}
	x.logf("churn: with %d copies (made in %.1f s): %s", res.Copies, res.CreateS, res.With)
	profile("with")

	if took, err = w.remove(ctx, cp.c); err != nil {
		return err
	}
	res.DeleteS = took.Seconds()
	if res.After, err = x.settled(ctx, p, nil); err != nil {
		return err
	}
	x.logf("churn: after deleting them (in %.1f s): %s", res.DeleteS, res.After)
	profile("after")

	r.row("8. churn", fmt.Sprintf("before the copies (after a warm-up of 10, %s idle)", churnSettle(cfg)), res.Before.String(), "", "")
	r.row("8. churn", fmt.Sprintf("with %d copies (%d × %d)", res.Copies, w.namespaces, w.sources), res.With.String(), "", "")
	r.row("8. churn", "after deleting them", res.After.String(), "", "")
	growth := float64(res.After.RSS - res.Before.RSS)
	r.budget(Budget{Name: "8. churn: steady RSS after − before", Limit: "≤ " + mib(maxChurnGrowth), Measured: mib(growth),
		Checked: true, OK: growth <= maxChurnGrowth})
	return nil
}

// settled waits until the manager is idle (with at least minReconciles), lets it
// sit for MemorySettle but at least two release intervals and a bit, and reads its
// memory.
func (x *run) settled(ctx context.Context, p *managerproc.Process, minReconciles map[string]int) (memSnapshot, error) {
	if _, err := waitIdle(ctx, p, minReconciles, 2*time.Minute); err != nil {
		return memSnapshot{}, err
	}
	time.Sleep(churnSettle(x.cfg))
	mem, err := p.Memory()
	if err != nil {
		return memSnapshot{}, err
	}
	m, err := p.Scrape(ctx, append(goMemstats, runtimeSys...)...)
	if err != nil {
		return memSnapshot{}, err
	}
	snap := memSnapshot{PeakRSS: mem.PeakRSS, RSS: mem.RSS, RSSAnon: mem.RSSAnon, RSSFile: mem.RSSFile, HeapInuse: m.Sum("go_memstats_heap_inuse_bytes", nil),
		HeapRetained: m.Sum("go_memstats_heap_idle_bytes", nil) - m.Sum("go_memstats_heap_released_bytes", nil),
		Goroutines:   m.Sum("go_goroutines", nil), Runtime: map[string]float64{}}
	for _, s := range m {
		snap.Runtime[s.Name] = s.Value
	}
	return snap, nil
}

// churnSettle is how long scenario 8 lets the manager sit before reading memory.
// The manager (with its default --memory-release-interval) returns free heap at
// the first check after the live heap halved, and the live heap is known as of the
// last GC: if one ran during the deletion, the next check, one interval later,
// collects and releases. Two intervals after idle, a steady figure includes what
// the release gives back.
func churnSettle(cfg Config) time.Duration {
	return max(cfg.MemorySettle, 2*memrelease.DefaultInterval+5*time.Second)
}

// runtimeSys are the runtime's own structures, outside the heap.
var runtimeSys = []string{"go_memstats_gc_sys_bytes", "go_memstats_other_sys_bytes", "go_memstats_mspan_inuse_bytes",
	"go_memstats_mcache_inuse_bytes", "go_memstats_buck_hash_sys_bytes", "go_memstats_stack_sys_bytes"}

// waitCopies polls (metadata only) until exactly n objects match sel.
func waitCopies(ctx context.Context, c client.Client, sel client.MatchingLabels, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	got := -1
	for time.Now().Before(deadline) {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := c.List(ctx, l, sel); err == nil {
			if got = len(l.Items); got == n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("%d copies after %s, want %d", got, timeout, n)
}

// heapProfiler makes runner's manager serve pprof when ProfileDir is set, and
// returns what saves its heap profile as ProfileDir/<name>.pb.gz (nothing without
// ProfileDir).
func (x *run) heapProfiler(ctx context.Context, runner *courierRunner, scenario string) (func(name string), error) {
	if x.cfg.ProfileDir == "" {
		return func(string) {}, nil
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runner.args = append(runner.args, "--pprof-bind-address="+addr)
	return func(name string) {
		if err := saveHeapProfile(ctx, addr, filepath.Join(x.cfg.ProfileDir, name+".pb.gz")); err != nil {
			x.logf("%s: heap profile %s: %v", scenario, name, err)
		}
	}, nil
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// saveHeapProfile writes the manager's heap profile (after a GC, so it shows what
// is live) to path.
func saveHeapProfile(ctx context.Context, addr, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
