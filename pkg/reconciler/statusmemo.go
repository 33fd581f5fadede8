package reconciler

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statusMemo is what one reconciler last wrote to one primary's status.
type statusMemo struct {
	// from are the resourceVersions the primary had before the write: as the
	// reconcile read it, and as its own earlier writes (a finalizer patch) left
	// it. A later reconcile that reads one of them reads a cache that has not yet
	// shown the write.
	from []string
	// generation of the primary when written.
	generation int64
	// status is the status written, as JSON (map keys sorted: comparable bytes).
	status []byte
}

// statusMemos guard against reconciling from a cached primary older than the
// reconciler's own previous status write: such a reconcile starts from the status
// as it is stored (rebase), so it neither reverts fields it keeps rather than
// recomputes nor writes an identical status again (stale).
//
// A memo lives from a status write until the next reconcile of that primary sees
// any other resourceVersion (our write, or anything later: the cache has caught up
// and the normal diff is right again), the primary is gone, or a write fails. It is
// only ever consulted for the resourceVersions the primary had before the write
// (as read, and as the same reconcile's own earlier writes left it), which a cache
// that delivers events in order can show only before it shows our write, so a
// legitimate repair (someone changed status after our write) is never skipped:
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
	if !m.before(cached) {
		delete(s.m, key)
		return false
	}
	b, err := json.Marshal(want)
	return err == nil && bytes.Equal(b, m.status)
}

// before reports whether cached is the primary as it was before the write.
func (m statusMemo) before(cached client.Object) bool {
	if cached.GetGeneration() != m.generation {
		return false
	}
	for _, rv := range m.from {
		if rv != "" && cached.GetResourceVersion() == rv {
			return true
		}
	}
	return false
}

// remember records a successful status write made when the primary was at the
// resourceVersions from.
func (s *statusMemos) remember(key types.NamespacedName, from []string, generation int64, status any) {
	b, err := json.Marshal(status)
	if len(from) == 0 || from[0] == "" || err != nil {
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

// rebase puts the status our last write stored back on obj when obj is the exact
// cached primary that write started from (the cache has not shown the write yet).
// Steps then compute from the status as it is stored, not from an older one: a
// field they keep rather than recompute (a last-sync time) is not reverted, and
// an unchanged result is recognised as unchanged.
func (s *statusMemos) rebase(key types.NamespacedName, obj client.Object) {
	s.mu.Lock()
	m, ok := s.m[key]
	s.mu.Unlock()
	if !ok || !m.before(obj) {
		return
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		var st any
		if json.Unmarshal(m.status, &st) == nil {
			u.Object["status"] = st
		}
		return
	}
	f, ok := statusField(obj)
	if !ok {
		return
	}
	st := reflect.New(f.Type())
	if json.Unmarshal(m.status, st.Interface()) == nil {
		f.Set(st.Elem())
	}
}

// forget drops the memo for key.
func (s *statusMemos) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
