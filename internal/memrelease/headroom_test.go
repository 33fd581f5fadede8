package memrelease

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name                  string
		headroom, live, roots uint64
		ceiling, want         int
	}{
		{"nothing live yet", 16 * mib, 0, 0, 100, 100},
		{"a live heap below the headroom keeps the default pacing", 16 * mib, 8 * mib, 0, 100, 100},
		{"a live heap of the headroom keeps it too", 16 * mib, 15 * mib, 1 * mib, 100, 100},
		{"64 MiB live grows by 16 MiB", 16 * mib, 63 * mib, 1 * mib, 100, 25},
		{"roots count as the runtime counts them", 16 * mib, 32 * mib, 32 * mib, 100, 25},
		{"a large heap grows by a tenth", 16 * mib, 1024 * mib, 0, 100, MinGCPercent},
		{"never above the process's own GOGC", 16 * mib, 8 * mib, 0, 50, 50},
	} {
		if got := GCPercent(c.headroom, c.live, c.roots, c.ceiling); got != c.want {
			t.Errorf("%s: GCPercent(%d MiB, %d MiB, %d MiB, %d) = %d, want %d", c.name,
				c.headroom/mib, c.live/mib, c.roots/mib, c.ceiling, got, c.want)
		}
	}
}

// sink keeps the test's live heap reachable.
var sink [][]byte

// TestHeadroomBoundsTheHeapGoal holds a live heap of 64 MiB and checks that, paced
// with a headroom of 8 MiB, the runtime's next goal is within 8 MiB (and a little
// for roots) of it instead of 64 MiB past it, and that the default pacing comes back
// when the live heap is gone and when the pacing stops.
func TestHeadroomBoundsTheHeapGoal(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(100)
	const mib = 1 << 20
	gogc, stop := StartHeadroom(8 * mib)
	defer stop()
	if gogc != 100 {
		t.Fatalf("started with GOGC %d, want 100 on a small heap", gogc)
	}
	for range 64 {
		sink = append(sink, make([]byte, mib))
	}
	// The pacer has caught up once GOGC is what the last cycle's live heap asks for.
	percent := settle(t, func(p uint64) bool {
		v := readUint64(liveMetric, stackMetric, globalsMetric)
		return p < 100 && int(p) == GCPercent(8*mib, v[0], v[1]+v[2], 100)
	})
	v := readUint64(liveMetric, "/gc/heap/goal:bytes")
	live, goal := v[0], v[1]
	if goal-live > 9*mib {
		t.Fatalf("with 64 MiB live and an 8 MiB headroom the next GC starts %d MiB later (GOGC %d), want about 8", (goal-live)/mib, percent)
	}
	if live < 64*mib {
		t.Fatalf("live heap %d MiB, want the 64 MiB the test holds", live/mib)
	}

	sink = nil
	if p := settle(t, func(p uint64) bool { return p == 100 }); p != 100 {
		t.Fatalf("GOGC %d after the live heap went, want 100", p)
	}

	for range 64 {
		sink = append(sink, make([]byte, mib))
	}
	settle(t, func(p uint64) bool { return p < 100 })
	stop()
	runtime.GC()
	if p := readGOGC(); p != 100 {
		t.Fatalf("GOGC %d after stop, want 100 again", p)
	}
	sink = nil

	t.Setenv("GOGC", "200")
	if gogc, _ := StartHeadroom(4 * mib); gogc != 0 {
		t.Fatalf("GOGC set in the environment, yet StartHeadroom paced (%d)", gogc)
	}
}

// settle runs collections until GOGC satisfies ok (cleanups run a moment after the
// cycle that found their objects), and returns it.
func settle(t *testing.T, ok func(uint64) bool) uint64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: CI runs packages in parallel
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if p := readGOGC(); ok(p) {
			return p
		} else if time.Now().After(deadline) {
			t.Fatalf("GOGC stayed %d", p)
		}
	}
}

func readGOGC() uint64 { return readUint64("/gc/gogc:percent")[0] }
