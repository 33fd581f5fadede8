// Package memrelease gives the Go runtime's free heap back to the kernel after the
// live heap shrinks a lot, for example when thousands of copies are deleted.
//
// The runtime keeps freed heap pages it may need again: up to the next GC goal,
// which is twice the live heap at the peak. After a large shrink, that leaves the
// process resident at a multiple of what it uses, until the background scavenger
// gets to it (it only returns what is above the current goal, slowly). The
// Releaser watches the live heap and, once it has fallen to less than half of its
// high-water mark and enough heap is free, calls debug.FreeOSMemory once. A steady
// manager never triggers it: the live heap does not halve in steady state. An idle
// one gets a GC per interval when the runtime ran none (GC is paced by allocation,
// so without it the garbage of a large deletion is only found by the runtime's
// two-minute forced collection).
//
// SetSoftLimit bounds the other end: it sets the runtime's soft memory limit from
// the container's memory limit, so the heap's growth between collections (up to
// twice the live heap by default) does not take a start-up or a fan-out past it.
//
// StartHeadroom bounds that growth wherever the limit is, for a deployer who trades
// CPU for a flat memory profile (--gc-headroom): it paces the collector by an
// amount instead of the live heap again, so a fan-out's peak is its steady state
// plus the headroom, not twice it.
package memrelease
