package memrelease

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetSoftLimit(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "")
	limit := float64(256 << 20)
	want := int64(limit * SoftLimitFraction)
	if got := SetSoftLimit(256 << 20); got != want {
		t.Fatalf("SetSoftLimit(256 MiB) = %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Fatalf("runtime soft limit = %d, want 90%% of 256 MiB", got)
	}
	if got := SetSoftLimit(0); got != 0 {
		t.Fatalf("SetSoftLimit(0) = %d, want no limit", got)
	}
	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(math.MaxInt64)
	if got := SetSoftLimit(256 << 20); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT set, yet SetSoftLimit set a limit (%d)", got)
	}
}
