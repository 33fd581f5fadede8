package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/courier-operator/courier/test/managerproc"
)

// courierRunner starts the courier binary against one control plane with its
// production defaults: the only flags are the ones managerproc adds (loopback
// metrics and probe addresses, --metrics-secure=false).
type courierRunner struct {
	bin        string
	kubeconfig string
	logPath    string
	// args are extra flags: diagnostics only (-profile-dir), never tuning.
	args []string
}

func (r courierRunner) start(ctx context.Context) (*managerproc.Process, error) {
	p, err := managerproc.Start(managerproc.Options{Binary: r.bin, Kubeconfig: r.kubeconfig, LogPath: r.logPath, Args: r.args})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := p.WaitReady(rctx); err != nil {
		p.Kill()
		return nil, fmt.Errorf("%w; log tail:\n%s", err, r.logTail(30))
	}
	return p, nil
}

func (r courierRunner) logTail(n int) string {
	b, _ := os.ReadFile(r.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// idleMetrics are the controller-runtime metrics idleness is judged on.
var idleMetrics = []string{"workqueue_depth", "controller_runtime_active_workers", "controller_runtime_reconcile_total"}

// waitIdle waits until the manager has "caches synced and nothing to do": every
// controller named in minReconciles has finished at least that many reconciles
// (controllers start their workers only after their caches synced), no work queue
// holds an item, no worker is busy, and the reconcile count did not move between
// two scrapes 250 ms apart. It returns the time of the first of those two scrapes.
// Delayed requeues (RequeueAfter) are not in workqueue_depth; callers that expect
// them wait for their effect instead.
func waitIdle(ctx context.Context, p *managerproc.Process, minReconciles map[string]int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	var (
		candidate time.Time
		lastTotal = -1.0
		lastErr   error
	)
	for time.Now().Before(deadline) {
		if p.Exited() {
			return time.Time{}, fmt.Errorf("courier exited: %w", p.ExitErr())
		}
		at := time.Now()
		m, err := p.Scrape(ctx, idleMetrics...)
		if err != nil {
			lastErr = err
			candidate, lastTotal = time.Time{}, -1
		} else {
			busy := m.Sum("workqueue_depth", nil) + m.Sum("controller_runtime_active_workers", nil)
			total := m.Sum("controller_runtime_reconcile_total", nil)
			enough := true
			for ctrl, n := range minReconciles {
				if m.Sum("controller_runtime_reconcile_total", map[string]string{"controller": ctrl}) < float64(n) {
					enough = false
				}
			}
			switch {
			case busy > 0 || !enough:
				candidate, lastTotal = time.Time{}, -1
			case candidate.IsZero() || total != lastTotal:
				candidate, lastTotal = at, total
			default:
				return candidate, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("courier not idle within %s (last scrape error: %w)", timeout, lastErr)
}

// memSampler polls a process's RSS and Go heap while it runs, so the report can
// show the heap's peak next to the kernel's VmHWM.
type memSampler struct {
	mu       sync.Mutex
	maxHeap  float64
	samples  int
	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
}

func sampleMemory(ctx context.Context, p *managerproc.Process, every time.Duration) *memSampler {
	s := &memSampler{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := p.Scrape(ctx, "go_memstats_heap_inuse_bytes"); err == nil {
				h := m.Sum("go_memstats_heap_inuse_bytes", nil)
				s.mu.Lock()
				if h > s.maxHeap {
					s.maxHeap = h
				}
				s.samples++
				s.mu.Unlock()
			}
			select {
			case <-s.stopCh:
				return
			case <-p.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *memSampler) stop() float64 {
	s.stopOnce.Do(func() { close(s.stopCh) })
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxHeap
}
