package memrelease

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultInterval is how often the manager looks at its heap unless told otherwise
// (--memory-release-interval): short enough that memory freed by a mass deletion
// is back with the kernel within half a minute, long enough that the checks cost
// nothing measurable.
const DefaultInterval = 15 * time.Second

// Releaser is a manager Runnable (controller-runtime's manager.Runnable) that
// returns free heap to the kernel after the live heap halved. The zero value is
// not usable: Interval must be set.
type Releaser struct {
	// Interval is how often the live heap is looked at.
	Interval time.Duration
	// MinFree is the least free heap worth a release (a forced GC and the page
	// faults of growing again): below it, nothing is done.
	MinFree uint64
	// Log receives one line per release.
	Log logr.Logger
	// Released, when set, counts the bytes given back.
	Released prometheus.Counter

	peak   uint64
	cycles uint64 // GC cycles completed at the last check
}

// NeedLeaderElection is false: every replica has its own heap.
func (r *Releaser) NeedLeaderElection() bool { return false }

// Start runs until ctx ends.
func (r *Releaser) Start(ctx context.Context) error {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.check()
		}
	}
}

// The runtime/metrics read on every check.
const (
	liveMetric     = "/gc/heap/live:bytes"
	freeMetric     = "/memory/classes/heap/free:bytes"
	releasedMetric = "/memory/classes/heap/released:bytes"
	cyclesMetric   = "/gc/cycles/total:gc-cycles"
)

// check releases when the live heap is below half its peak and at least MinFree
// is free, and then starts a new peak from the live heap.
//
// The live heap is known as of the last GC, and an idle process does not collect:
// GC is paced by allocation, so after a large deletion the garbage of thousands of
// objects stays until the runtime's forced collection (every two minutes). When no
// GC ran since the last check, check runs one: on an idle process that is cheap,
// and a busy one never pays it.
func (r *Releaser) check() {
	if s := read(); s.cycles == r.cycles {
		runtime.GC()
	}
	s := read()
	r.cycles = s.cycles
	if r.Decide(s.live, s.free) {
		debug.FreeOSMemory()
		releasedAfter := read().released
		r.Log.V(1).Info("returned free heap to the kernel after the live heap shrank",
			"liveBytes", s.live, "freeBytes", s.free, "releasedBytes", releasedAfter)
		if r.Released != nil {
			r.Released.Add(float64(s.free))
		}
	}
}

// Decide records live as a sample of the live heap and reports whether free heap
// of free bytes should be released now. It is the policy of check, without the
// runtime, for tests.
func (r *Releaser) Decide(live, free uint64) bool {
	if live > r.peak {
		r.peak = live
	}
	if live >= r.peak/2 || free < r.MinFree {
		return false
	}
	r.peak = live
	return true
}

// heapState is what check reads of the runtime.
type heapState struct {
	live     uint64 // the live heap, as of the last GC
	free     uint64 // free heap not returned to the kernel
	released uint64 // heap returned to the kernel
	cycles   uint64 // GC cycles completed
}

func read() heapState {
	v := readUint64(liveMetric, freeMetric, releasedMetric, cyclesMetric)
	return heapState{live: v[0], free: v[1], released: v[2], cycles: v[3]}
}

// readUint64 reads the named runtime metrics, each 0 where this runtime does not
// have it as a uint64 (a renamed or retired metric reads as nothing, not a panic).
func readUint64(names ...string) []uint64 {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	v := make([]uint64, len(s))
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return v
}
