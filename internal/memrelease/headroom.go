package memrelease

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// The collector's default pacing (GOGC=100) lets the heap grow by as much as the
// collection before found live: a manager that keeps 75 MiB of copy metadata runs
// at up to 150 MiB of heap while a fan-out or a start-up decodes payloads that are
// garbage a moment later, so its peak is twice its steady state wherever the
// container's limit is. Headroom paces it by an amount instead of a ratio: after
// every collection GOGC is set so that the next one starts at most the headroom past
// the live heap (never above the GOGC the process started with, so a small heap is
// paced as before). Only garbage waits for the collector: what the peak adds to
// the steady state is then the headroom, not the live heap again. The price is
// more collections when the live heap is large (one per headroom allocated); MinGCPercent
// bounds it.

// SuggestedHeadroom is the headroom docs/performance.md measured (scenario 9): with
// it a fan-out of 20,000 copies of 8 KiB, or 5,000 of 64 KiB, and a restart on them
// peak within 32 MiB of their steady RSS, where the default pacing peaks up to 84 MiB
// above it; the price is about 2.3 times the CPU and twice the time of that
// fan-out (16 MiB allocated per collection of a 60 MiB live heap). The manager
// does not pace by default for that reason: its soft memory limit already keeps a
// peak inside the container's limit, collecting harder only near it.
const SuggestedHeadroom = 16 << 20

// The roots the runtime scans besides the heap, which its pacing counts too.
const (
	stackMetric   = "/gc/scan/stack:bytes"
	globalsMetric = "/gc/scan/globals:bytes"
)

// MinGCPercent is the least GOGC Headroom sets: past a live heap of ten times the
// headroom the heap grows by a tenth of it, because a smaller step would have the
// collector mark the whole live heap for every few MiB allocated.
const MinGCPercent = 10

// GCPercent returns the GOGC at which a collection that found live bytes of live
// heap, and roots bytes of stacks and globals, sets the next collection to start
// at most headroom bytes later: the runtime's goal is live + (live + roots) ×
// GOGC/100. It is at most ceiling (the GOGC without Headroom) and at least
// MinGCPercent.
func GCPercent(headroom, live, roots uint64, ceiling int) int {
	scanned := live + roots
	if scanned == 0 {
		return ceiling
	}
	if percent := headroom * 100 / scanned; percent < uint64(ceiling) {
		return max(MinGCPercent, int(percent))
	}
	return ceiling
}

// StartHeadroom paces the collector with a headroom of bytes (see GCPercent) until
// stop is called (a manager never calls it: the pacing is the process's), and
// returns the GOGC in force. It does nothing, and returns 0 and a stop that does
// nothing, when bytes is 0, the environment sets GOGC (the deployer's own choice
// wins) or GOGC is off.
func StartHeadroom(bytes uint64) (gogc int, stop func()) {
	if bytes == 0 || os.Getenv("GOGC") != "" {
		return 0, func() {}
	}
	ceiling := debug.SetGCPercent(100)
	debug.SetGCPercent(ceiling)
	if ceiling < 0 {
		return 0, func() {}
	}
	p := &pacer{headroom: bytes, ceiling: ceiling, percent: ceiling}
	p.adjust()
	p.arm()
	return p.current(), p.stop
}

// pacer is the state of StartHeadroom: it adjusts GOGC after every collection.
type pacer struct {
	headroom uint64
	ceiling  int
	mu       sync.Mutex
	percent  int
	stopped  bool
}

// arm registers adjust to run after the next collection, and itself again then: a
// cleanup of an object nothing points to runs once the collector has found it
// unreachable, i.e. after each cycle. (The object is not tiny, 16 bytes or less,
// whose cleanups may never run.)
func (p *pacer) arm() {
	runtime.AddCleanup(new([64]byte), func(p *pacer) {
		if p.adjust() {
			p.arm()
		}
	}, p)
}

// stop ends the pacing and restores the GOGC the process started with.
func (p *pacer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	debug.SetGCPercent(p.ceiling)
}

// adjust sets GOGC from what the last collection found live (at most once per
// cycle: SetGCPercent only recomputes the pacing, under the heap lock). It
// reports false, and does nothing, once the pacer is stopped.
func (p *pacer) adjust() bool {
	v := readUint64(liveMetric, stackMetric, globalsMetric)
	want := GCPercent(p.headroom, v[0], v[1]+v[2], p.ceiling)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	if want != p.percent {
		debug.SetGCPercent(want)
		p.percent = want
	}
	return true
}

func (p *pacer) current() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.percent
}
