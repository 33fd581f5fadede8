package memrelease

import (
	"os"
	"runtime/debug"
)

// SoftLimitFraction is the share of the container's memory limit that becomes the
// Go runtime's soft memory limit: the rest is room for what the runtime does not
// count (the executable's pages, thread stacks) and for the time the collector
// takes to catch up.
const SoftLimitFraction = 0.9

// SetSoftLimit sets the runtime's soft memory limit (debug.SetMemoryLimit) to
// SoftLimitFraction of containerLimit bytes and returns it. It does nothing, and
// returns 0, when containerLimit is not positive or GOMEMLIMIT is set (the
// deployer's own choice wins).
//
// Without a soft limit the collector lets the heap grow to twice the live heap
// before it runs (GOGC=100), wherever the container's limit is: a start-up or a
// fan-out over thousands of copies, whose live heap is steady but whose decoded
// payloads are garbage a moment later, would be OOM-killed although what it keeps
// fits. With it, the collector runs more often as the heap nears the limit.
func SetSoftLimit(containerLimit int64) int64 {
	if containerLimit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := int64(float64(containerLimit) * SoftLimitFraction)
	debug.SetMemoryLimit(limit)
	return limit
}
