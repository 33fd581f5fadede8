package memrelease

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestDecide: a release only after the live heap halved from its peak with enough
// free, once per drop; growth and steady state never release.
func TestDecide(t *testing.T) {
	const mib = 1 << 20
	r := &Releaser{MinFree: 8 * mib}
	steps := []struct {
		live, free uint64
		want       bool
		why        string
	}{
		{10 * mib, 2 * mib, false, "start"},
		{100 * mib, 60 * mib, false, "growth"},
		{90 * mib, 80 * mib, false, "steady: free heap between collections is normal"},
		{60 * mib, 90 * mib, false, "not halved"},
		{12 * mib, 4 * mib, false, "halved, but too little free to be worth it"},
		{11 * mib, 90 * mib, true, "halved with plenty free"},
		{11 * mib, 90 * mib, false, "released already: the peak starts again from here"},
		{40 * mib, 10 * mib, false, "growth again"},
		{15 * mib, 30 * mib, true, "halved from the new peak"},
	}
	for _, s := range steps {
		if got := r.Decide(s.live, s.free); got != s.want {
			t.Fatalf("%s: Decide(%d MiB live, %d MiB free) = %v", s.why, s.live/mib, s.free/mib, got)
		}
	}
}

// TestReleaserReturnsMemory: after a large heap is dropped, the Releaser gives its
// pages back to the kernel (the runtime's released figure grows by most of it) and
// counts them; without it the runtime keeps them.
func TestReleaserReturnsMemory(t *testing.T) {
	released := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_released_bytes_total"})
	r := &Releaser{Interval: 20 * time.Millisecond, MinFree: 8 << 20, Released: released, Log: logr.Discard()}
	func() {
		ballast := make([][]byte, 0, 256)
		for range 256 {
			ballast = append(ballast, make([]byte, 1<<20))
		}
		runtime.GC()
		r.check() // the peak: 256 MiB live
		runtime.KeepAlive(ballast)
	}()
	runtime.GC()
	before := read()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	for testutil.ToFloat64(released) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := read()
	t.Logf("released by the runtime: %d MiB before the Releaser, %d MiB after; counted %.0f MiB",
		before.released>>20, after.released>>20, testutil.ToFloat64(released)/(1<<20))
	if testutil.ToFloat64(released) < 128<<20 {
		t.Fatalf("counted %.0f bytes released, want most of the 256 MiB dropped", testutil.ToFloat64(released))
	}
	if after.free > 32<<20 {
		t.Fatalf("%d MiB still free and not returned", after.free>>20)
	}
}
