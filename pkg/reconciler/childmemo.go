package reconciler

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/courier-operator/courier/internal/shrinkmap"
)

// creationTTL bounds how long a creation counts as pending: far longer than a cache
// takes to show a write, short enough that a memo outliving its purpose (the child
// was deleted before the cache ever showed it) costs one extra read for a minute.
const creationTTL = time.Minute

// maxChildMemos bounds the memory of the memos: past it they are dropped, which
// only costs full compares and reads until they are rebuilt.
const maxChildMemos = 100_000

// childRef names one child of one ChildSet.
type childRef struct {
	set string
	gvk schema.GroupVersionKind
	key types.NamespacedName
}

// objectRef names a child without its set: what a watch event knows of it. Two
// sets of one controller never share a child.
type objectRef struct {
	gvk schema.GroupVersionKind
	key types.NamespacedName
}

func (r childRef) object() objectRef { return objectRef{gvk: r.gvk, key: r.key} }

// childMemo is what a reconciler remembers of its last write of one child.
type childMemo struct {
	// rv is the resourceVersion the API server gave the child in answer to that
	// write: the child as it is then, defaults and mutations included.
	rv string
	// over is the resourceVersion that write replaced ("" for a create), and hash
	// the HashAnnotation it wrote: while a cache still shows over, it is behind
	// our write (see behind).
	over, hash string
}

// childMemos remember, per child, the reconciler's last write (Exact ChildSets with
// a HashAnnotation, see childWork.sync and childWork.repair). Two costs go away:
//
//   - A reconcile that runs before the cache shows a child the previous one created
//     (the child's own create event enqueues the primary at once) would POST it
//     again and get AlreadyExists, a failed write. While a creation is pending, a
//     child missing from the cache is read (GET) instead.
//   - A cached child whose resourceVersion is the one our write produced, and whose
//     hash annotation is the desired one, is exactly what we wrote for the current
//     desired state: no field-by-field compare is needed. That makes the reconciles
//     triggered by a fan-out's own events cheap, and means a field an admission
//     webhook adds on our write is accepted rather than fought.
//
// Memory is one entry per child written by this process (bounded by
// maxChildMemos); an entry goes when the child is pruned.
//
// For kinds in watched (whose watch reports every event, see Builder.Complete), a
// pending creation is awaited, not read, until the first event of the child.
type childMemos struct {
	mu sync.Mutex
	m  shrinkmap.Map[childRef, childMemo] // shrinks after a large prune
	// creating holds the pending creations: until the cache lists the child, or
	// creationTTL passes.
	creating shrinkmap.Map[objectRef, pendingCreate]
	watched  map[schema.GroupVersionKind]bool // set before the controller starts
}

// pendingCreate is a pending creation: when it was made, and whether an event of the
// child arrived since. Once one did, the cache shows the child (or shows it gone)
// from then on; but a reconcile that listed before the event still misses it, so
// the creation stays pending, and such a reconcile reads the child.
type pendingCreate struct {
	at       time.Time
	observed bool
}

// pending reports whether ref was created less than creationTTL ago and not seen in
// the cache since.
func (c *childMemos) pending(ref childRef) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pendingLocked(ref)
}

func (c *childMemos) pendingLocked(ref childRef) bool {
	cr, ok := c.creating.Get(ref.object())
	if ok && time.Since(cr.at) >= creationTTL {
		c.creating.Delete(ref.object())
		return false
	}
	return ok
}

// awaited reports whether ref is a creation of hash whose first watch event has
// not arrived yet: that event runs the reconcile again, with the child in the
// cache, so nothing needs reading now. False when the events are not watched.
func (c *childMemos) awaited(ref childRef, hash string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, _ := c.m.Get(ref)
	cr, _ := c.creating.Get(ref.object())
	return c.watched[ref.gvk] && hash != "" && m.hash == hash && c.pendingLocked(ref) && !cr.observed
}

// observed records an event of the child gvk/key: its creation, if pending, is no
// longer awaited.
func (c *childMemos) observed(gvk schema.GroupVersionKind, key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := objectRef{gvk: gvk, key: key}
	if cr, ok := c.creating.Get(o); ok && !cr.observed {
		cr.observed = true
		c.creating.Set(o, cr)
	}
}

// wrote records a successful write of ref that replaced resourceVersion over
// ("" for a create) with rv, writing hash; a create also marks the creation
// pending.
func (c *childMemos) wrote(ref childRef, rv, over, hash string, create bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m.Len() >= maxChildMemos {
		c.m.Reset()
		c.creating.Reset()
	}
	// The names repeat across children (and the cache interns them too).
	ref.key = types.NamespacedName{Namespace: interned(ref.key.Namespace), Name: interned(ref.key.Name)}
	c.m.Set(ref, childMemo{rv: rv, over: over, hash: hash})
	if create {
		c.creating.Set(ref.object(), pendingCreate{at: time.Now()})
	} else {
		c.creating.Delete(ref.object()) // replaced: it was read live, it exists
	}
}

// seen records that the cache shows ref: its creation is no longer pending.
func (c *childMemos) seen(ref childRef) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.creating.Delete(ref.object())
}

// memo returns what is remembered of ref: the zero memo when nothing is.
func (c *childMemos) memo(ref childRef) childMemo {
	if c == nil {
		return childMemo{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, _ := c.m.Get(ref)
	return m
}

// ours reports whether resourceVersion rv of ref is the result of our last write.
func (c *childMemos) ours(ref childRef, rv string) bool {
	return rv != "" && c.memo(ref).rv == rv
}

// behind reports whether a listed child at resourceVersion rv is the version our
// last write of ref replaced, and hash (the desired state's) what that write
// wrote: the list is behind our write, not the child behind the desired state.
func (c *childMemos) behind(ref childRef, rv, hash string) bool {
	m := c.memo(ref)
	return rv != "" && hash != "" && m.over == rv && m.hash == hash
}

// wroteBefore reports whether this reconciler wrote ref (and remembers the version
// its write left).
func (c *childMemos) wroteBefore(ref childRef) bool { return c.memo(ref).rv != "" }

// forget drops ref (pruned, or gone).
func (c *childMemos) forget(ref childRef) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.Delete(ref)
	c.creating.Delete(ref.object())
}
