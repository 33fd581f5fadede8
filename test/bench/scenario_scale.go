package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/courier-operator/courier/test/managerproc"
)

// scaleResult is the JSON detail of one wave of scenario 9.
type scaleResult struct {
	Wave         string `json:"wave"`
	Copies       int    `json:"copies"`
	CopyBytes    int    `json:"copy_bytes"`
	Propagations int    `json:"propagations"`
	Namespaces   int    `json:"namespaces"`
	// Idle is the manager with the sources and namespaces but no copy; With after
	// it made every copy; Restarted is a fresh manager started with the copies in
	// place. Each is read after the settle time, with the process's peak so far.
	Idle, With, Restarted memSnapshot
	FanoutS               float64 `json:"fanout_s"`
	// RestartS is a fresh manager's start (ready) to caches synced and idle.
	RestartS float64 `json:"restart_s"`
	// HeapPerCopy is (heap in use with the copies − idle) / copies, for the
	// manager that made them and for the restarted one.
	HeapPerCopy, RestartHeapPerCopy float64
	// FanoutPeakHeap and RestartPeakHeap are the highest heap in use sampled (every
	// 250 ms) during the fan-out and the restart, up to the settled snapshot.
	FanoutPeakHeap, RestartPeakHeap float64
	FanoutWrites                    map[string]float64 `json:"fanout_writes"`
	WritesPerCopy                   float64            `json:"writes_per_copy"`
	// FanoutReads and RestartReads are Courier's reads (GET, LIST, WATCH by
	// resource) during the fan-out and the restart.
	FanoutReads map[string]float64 `json:"fanout_reads"`
	// FanoutTerminatedWatchers is how many Secret watches the API server closed
	// during the fan-out because their client fell behind (each is resumed from
	// its last resourceVersion, without a new LIST).
	FanoutTerminatedWatchers float64            `json:"fanout_terminated_watchers"`
	RestartWrites            map[string]float64 `json:"restart_writes"`
	RestartReads             map[string]float64 `json:"restart_reads"`
	DeleteS                  float64            `json:"delete_s"`
	// FanoutCPUS is the CPU time Courier used from the fan-out's start until it was
	// idle and settled; RestartCPUS the restarted process's, from its start until
	// idle and settled (process_cpu_seconds_total), for the sizing of
	// docs/operations.md.
	FanoutCPUS  float64 `json:"fanout_cpu_s"`
	RestartCPUS float64 `json:"restart_cpu_s"`
}

// scale runs scenario 9: memory and writes with many managed copies, for each
// wave of ScaleWaves (e.g. 20,000 copies of 8 KiB, 5,000 of 64 KiB). What a copy
// costs must not depend on its size, and neither the fan-out nor a restart may
// need much more memory than the steady state after it.
func (x *run) scale(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	var results []*scaleResult
	x.r.Scenarios["scale"] = &results
	for _, w := range x.cfg.ScaleWaves {
		res, err := x.scaleWave(ctx, cp, runner, w)
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	return nil
}

func (x *run) scaleWave(ctx context.Context, cp *controlPlane, runner courierRunner, w wave) (*scaleResult, error) {
	res := &scaleResult{Wave: w.name, Copies: w.copies(), CopyBytes: w.bytes, Propagations: w.props, Namespaces: w.namespaces}
	x.logf("scale: %s", w)
	if err := w.setup(ctx, cp.c); err != nil {
		return nil, err
	}
	runner.logPath = filepath.Join(filepath.Dir(runner.logPath), "courier-"+w.name+".log")
	profile, err := x.heapProfiler(ctx, &runner, "scale")
	if err != nil {
		return nil, err
	}
	p, err := runner.start(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	if err := w.warmUp(ctx, cp.c); err != nil {
		return nil, err
	}
	if res.Idle, err = x.settled(ctx, p, nil); err != nil {
		return nil, err
	}
	x.logf("scale: %s: idle, no copies: %s", w.name, res.Idle)
	profile(w.name + "-idle")

	done, err := x.requests(ctx, cp)
	if err != nil {
		return nil, err
	}
	terminated, err := cp.terminatedWatchers(ctx)
	if err != nil {
		return nil, err
	}
	cpu0, err := cpuSeconds(ctx, p)
	if err != nil {
		return nil, err
	}
	sampler := sampleMemory(ctx, p, 250*time.Millisecond)
	took, err := w.fanOut(ctx, cp.c)
	if err != nil {
		return nil, err
	}
	res.FanoutS = took.Seconds()
	props := map[string]int{"clusterpropagation": w.props}
	if res.With, err = x.settled(ctx, p, props); err != nil {
		return nil, err
	}
	res.FanoutPeakHeap = sampler.stop()
	if res.FanoutCPUS, err = cpuSeconds(ctx, p); err != nil {
		return nil, err
	}
	res.FanoutCPUS -= cpu0
	if res.FanoutTerminatedWatchers, err = cp.terminatedWatchers(ctx); err != nil {
		return nil, err
	}
	res.FanoutTerminatedWatchers -= terminated
	writes, reads, err := done()
	if err != nil {
		return nil, err
	}
	res.FanoutWrites, res.FanoutReads = writes.byKey(), reads.byKey()
	res.WritesPerCopy = secretWrites(writes).total("secrets", "") / float64(w.copies())
	res.HeapPerCopy = (res.With.HeapInuse - res.Idle.HeapInuse) / float64(w.copies())
	x.logf("scale: %s: with the copies (made in %.1f s): %s, writes %s, reads %s", w.name, res.FanoutS, res.With, writes, reads)
	profile(w.name + "-with")

	// A restart on the copies: the start-up lists every copy.
	if err := p.Stop(30 * time.Second); err != nil {
		return res, err
	}
	if done, err = x.requests(ctx, cp); err != nil {
		return res, err
	}
	restarted, err := runner.start(ctx)
	if err != nil {
		return res, err
	}
	p = restarted // stopped by the deferred Stop
	ready := time.Now()
	sampler = sampleMemory(ctx, p, 250*time.Millisecond)
	idleAt, err := waitIdle(ctx, p, props, 2*time.Minute)
	if err != nil {
		return res, err
	}
	res.RestartS = idleAt.Sub(ready).Seconds()
	if res.Restarted, err = x.settled(ctx, p, props); err != nil {
		return res, err
	}
	res.RestartPeakHeap = sampler.stop()
	if res.RestartCPUS, err = cpuSeconds(ctx, p); err != nil {
		return res, err
	}
	if writes, reads, err = done(); err != nil {
		return res, err
	}
	res.RestartWrites, res.RestartReads = writes.byKey(), reads.byKey()
	res.RestartHeapPerCopy = (res.Restarted.HeapInuse - res.Idle.HeapInuse) / float64(w.copies())
	x.logf("scale: %s: restarted on the copies (idle after %.1f s): %s, writes %s, reads %s", w.name, res.RestartS, res.Restarted, writes, reads)
	profile(w.name + "-restarted")

	if took, err = w.remove(ctx, cp.c); err != nil {
		return res, err
	}
	res.DeleteS = took.Seconds()
	x.scaleRows(res, w, writes)
	return res, nil
}

// requests opens windows on Courier's writes and reads; the function it returns
// closes them.
func (x *run) requests(ctx context.Context, cp *controlPlane) (func() (writes, reads writeCounts, err error), error) {
	ww, err := cp.beginWrites(ctx)
	if err != nil {
		return nil, err
	}
	rw, err := cp.beginRequests(ctx, readVerbs)
	if err != nil {
		return nil, err
	}
	return func() (writeCounts, writeCounts, error) {
		writes, err := ww.end(ctx)
		if err != nil {
			return nil, nil, err
		}
		reads, err := rw.end(ctx)
		return writes, reads, err
	}, nil
}

// scaleRows reports one wave and checks its budgets.
func (x *run) scaleRows(res *scaleResult, w wave, restartWrites writeCounts) {
	r, name := x.r, fmt.Sprintf("9. scale (%s)", kib(w.bytes))
	r.row(name, w.String()+": idle before the copies", res.Idle.String(), "", "")
	r.row(name, fmt.Sprintf("fan-out (%.1f s): peak RSS / steady", res.FanoutS), peakAndSteady(res.With, res.FanoutPeakHeap), "", "")
	r.row(name, "fan-out: heap per copy / writes per copy", fmt.Sprintf("%.2f KiB / %.2f", res.HeapPerCopy/1024, res.WritesPerCopy), "", "")
	r.row(name, "fan-out: Courier's reads; Secret watches the API server closed as too slow", fmt.Sprintf("%v; %g", res.FanoutReads, res.FanoutTerminatedWatchers), "", "")
	r.row(name, "fan-out: Courier's CPU until idle and settled / per 1,000 copies",
		fmt.Sprintf("%.1f s / %.2f s", res.FanoutCPUS, res.FanoutCPUS*1000/float64(w.copies())), "", "")
	r.row(name, "restart: Courier's CPU from start until idle and settled / per 1,000 copies",
		fmt.Sprintf("%.1f s / %.2f s", res.RestartCPUS, res.RestartCPUS*1000/float64(w.copies())), "", "")
	r.row(name, fmt.Sprintf("restart on the copies (idle after %.1f s): peak RSS / steady", res.RestartS), peakAndSteady(res.Restarted, res.RestartPeakHeap), "", "")
	r.row(name, "restart: heap per copy / writes", fmt.Sprintf("%.2f KiB / %s", res.RestartHeapPerCopy/1024, restartWrites), "", "")
	r.row(name, "restart: Courier's reads", fmt.Sprint(res.RestartReads), "", "")
	for _, b := range slices.Concat(perCopyBudgets(name+": steady heap per copy after the fan-out", res.HeapPerCopy),
		perCopyBudgets(name+": steady heap per copy after a restart", res.RestartHeapPerCopy),
		peakBudgets(name+": fan-out", res.With), peakBudgets(name+": restart", res.Restarted)) {
		r.budget(b)
	}
	r.budget(exactBudget(name+": writes per copy", res.WritesPerCopy, 1, "each copy is created with one POST"))
	r.budget(exactBudget(name+": restart writes", restartWrites.total("", "*"), 0, "a restart on copies in sync writes nothing"))
}

func peakAndSteady(m memSnapshot, peakHeap float64) string {
	return fmt.Sprintf("%s / %s (heap in use, sampled peak / steady: %s / %s)", mib(float64(m.PeakRSS)), mib(float64(m.RSS)), mib(peakHeap), mib(m.HeapInuse))
}

// cpuSeconds is the CPU time (user + system) p has used since it started.
func cpuSeconds(ctx context.Context, p *managerproc.Process) (float64, error) {
	m, err := p.Scrape(ctx, "process_cpu_seconds_total")
	if err != nil {
		return 0, err
	}
	if len(m) == 0 {
		return 0, fmt.Errorf("courier exports no process_cpu_seconds_total")
	}
	return m.Sum("process_cpu_seconds_total", nil), nil
}
