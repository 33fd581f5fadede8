package reconciler

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// creationTTL bounds how long a creation is remembered: far longer than a cache
// takes to show a write, short enough that a memo outliving its purpose (the child
// was deleted before the cache ever showed it) costs one extra read for a minute.
const creationTTL = time.Minute

// creationKey names one child of one ChildSet.
type creationKey struct {
	set string
	gvk schema.GroupVersionKind
	key types.NamespacedName
}

// creationMemos remember the children a reconciler created, until its cache shows
// them (an Exact ChildSet, see childWork.sync).
//
// A reconcile that runs before the cache has shown a child created by the previous
// one (the copy's own create event enqueues the primary at once) would POST it again
// and get AlreadyExists: a failed write for the API server, and two writes per copy
// for anyone counting. While a creation is remembered, a child missing from the
// cache is read (GET) instead, and found ours. Memory is one entry per child created
// in the last minute and not yet seen in the cache.
type creationMemos struct {
	mu sync.Mutex
	m  map[creationKey]time.Time
}

// pending reports whether k was created less than creationTTL ago and not seen
// since.
func (c *creationMemos) pending(k creationKey) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.m[k]
	if ok && time.Since(at) >= creationTTL {
		delete(c.m, k)
		return false
	}
	return ok
}

// created records a successful create of k.
func (c *creationMemos) created(k creationKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[creationKey]time.Time{}
	}
	now := time.Now()
	if len(c.m) >= 1024 {
		// Children created and no longer desired are never looked up again.
		for key, at := range c.m {
			if now.Sub(at) >= creationTTL {
				delete(c.m, key)
			}
		}
	}
	c.m[k] = now
}

// seen forgets k: the cache shows it.
func (c *creationMemos) seen(k creationKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
