package shrinkmap

// minPeak is the size below which a map is never rebuilt: small maps cost little,
// and rebuilding them would only churn.
const minPeak = 1024

// Map is a map[K]V that is rebuilt (copied into a map of the right size) once it
// has shrunk to a quarter of its high-water mark, so the buckets of the peak can be
// collected. A rebuild copies what is left, after at least three times as many
// entries were deleted: amortised, a constant per delete. The zero value is an
// empty map. A Map is not safe for concurrent use.
type Map[K comparable, V any] struct {
	m    map[K]V
	peak int
}

// Get returns the value of k and whether it is present.
func (m *Map[K, V]) Get(k K) (V, bool) {
	v, ok := m.m[k]
	return v, ok
}

// Set stores v under k.
func (m *Map[K, V]) Set(k K, v V) {
	if m.m == nil {
		m.m = map[K]V{}
	}
	m.m[k] = v
	m.peak = max(m.peak, len(m.m))
}

// Delete removes k, and rebuilds the map when it has shrunk enough.
func (m *Map[K, V]) Delete(k K) {
	delete(m.m, k)
	if m.peak >= minPeak && len(m.m) <= m.peak/4 {
		// Not maps.Clone: it keeps the capacity of the original.
		small := make(map[K]V, len(m.m))
		for k, v := range m.m {
			small[k] = v
		}
		m.m, m.peak = small, len(small)
	}
}

// Len is the number of entries.
func (m *Map[K, V]) Len() int { return len(m.m) }

// Keys calls yield for every key, in no order, until it returns false.
func (m *Map[K, V]) Keys(yield func(K) bool) {
	for k := range m.m {
		if !yield(k) {
			return
		}
	}
}

// Reset empties the map and drops its memory.
func (m *Map[K, V]) Reset() { m.m, m.peak = nil, 0 }
