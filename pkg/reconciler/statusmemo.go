package reconciler

import (
	"bytes"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statusMemo is what one reconciler last wrote to one primary's status.
type statusMemo struct {
	// from is the resourceVersion of the (cached) primary the write was computed
	// from: a later reconcile that reads this same resourceVersion reads a cache
	// that has not yet shown the write.
	from string
	// generation of the primary when written.
	generation int64
	// status is the status written, as JSON (map keys sorted: comparable bytes).
	status []byte
}

// statusMemos guards against the redundant status write of a reconcile that starts
// from a cached primary older than the reconciler's own previous status write.
//
// A memo lives from a status write until the next reconcile of that primary sees
// any other resourceVersion (our write, or anything later: the cache has caught up
// and the normal diff is right again), the primary is gone, or a write fails. It is
// only ever consulted for the exact resourceVersion the write started from, which a
// cache that delivers events in order can show only before it shows our write, so
// a legitimate repair (someone changed status after our write) is never skipped:
// that change has a newer resourceVersion. Memory is one entry per primary written
// recently.
type statusMemos struct {
	mu sync.Mutex
	m  map[types.NamespacedName]statusMemo
}

// stale reports whether cached is the exact object our last status write for key
// started from, and want equals what that write stored: writing again would be a
// redundant write of identical content. Any other resourceVersion forgets the memo.
func (s *statusMemos) stale(key types.NamespacedName, cached client.Object, want any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[key]
	if !ok {
		return false
	}
	if cached.GetResourceVersion() != m.from || cached.GetGeneration() != m.generation {
		delete(s.m, key)
		return false
	}
	b, err := json.Marshal(want)
	return err == nil && bytes.Equal(b, m.status)
}

// remember records a successful status write computed from resourceVersion from.
func (s *statusMemos) remember(key types.NamespacedName, from string, generation int64, status any) {
	b, err := json.Marshal(status)
	if from == "" || err != nil {
		s.forget(key) // nothing to recognise a stale read by
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[types.NamespacedName]statusMemo{}
	}
	s.m[key] = statusMemo{from: from, generation: generation, status: b}
}

// forget drops the memo for key.
func (s *statusMemos) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
