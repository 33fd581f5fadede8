package shrinkmap

import (
	"runtime"
	"testing"
)

// TestMapShrinks: after a peak of 100,000 entries is deleted down to a few, the
// memory of the peak is collectable, where a plain map keeps it.
func TestMapShrinks(t *testing.T) {
	const n = 100_000
	heapAfter := func(fill func(int), del func(int), keep *int) uint64 {
		for i := range n {
			fill(i)
		}
		for i := 10; i < n; i++ {
			del(i)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		*keep++
		return ms.HeapAlloc
	}
	var keep int
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	plain := map[int][64]byte{}
	plainHeap := heapAfter(func(i int) { plain[i] = [64]byte{} }, func(i int) { delete(plain, i) }, &keep)
	if len(plain) != 10 {
		t.Fatalf("plain map holds %d", len(plain))
	}
	runtime.KeepAlive(plain)
	plain = nil
	runtime.GC()

	var m Map[int, [64]byte]
	shrinkHeap := heapAfter(func(i int) { m.Set(i, [64]byte{}) }, m.Delete, &keep)
	if m.Len() != 10 {
		t.Fatalf("Map holds %d", m.Len())
	}
	for i := range 10 {
		if _, ok := m.Get(i); !ok {
			t.Fatalf("entry %d lost in a rebuild", i)
		}
	}
	runtime.KeepAlive(&m)
	plainGrowth, shrinkGrowth := int64(plainHeap)-int64(base.HeapAlloc), int64(shrinkHeap)-int64(base.HeapAlloc)
	t.Logf("heap kept after deleting %d of %d entries: plain map %d KiB, Map %d KiB", n-10, n, plainGrowth>>10, shrinkGrowth>>10)
	if plainGrowth < 4<<20 {
		t.Fatalf("a plain map kept only %d KiB: the test no longer shows what it is about", plainGrowth>>10)
	}
	if shrinkGrowth > 256<<10 {
		t.Fatalf("Map kept %d KiB after shrinking", shrinkGrowth>>10)
	}
}

// TestMapSmallNeverRebuilds: below minPeak, deletes never copy.
func TestMapSmallNeverRebuilds(t *testing.T) {
	var m Map[int, int]
	for i := range minPeak - 1 {
		m.Set(i, i)
	}
	before := m.m
	for i := range minPeak - 2 {
		m.Delete(i)
	}
	if m.Len() != 1 {
		t.Fatalf("len %d", m.Len())
	}
	before[-1] = -1 // the same map: visible through m
	if _, ok := m.Get(-1); !ok {
		t.Fatal("a small map was rebuilt")
	}
	var keys []int
	m.Keys(func(k int) bool { keys = append(keys, k); return true })
	if len(keys) != 2 {
		t.Fatalf("keys %v", keys)
	}
	m.Reset()
	if m.Len() != 0 {
		t.Fatal("Reset kept entries")
	}
}
