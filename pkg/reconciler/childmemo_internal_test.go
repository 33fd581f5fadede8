package reconciler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// A creation is awaited (its event is on its way, nothing needs reading) only for
// a watched kind, for the hash it wrote, until an event of the child, a listing
// that shows it, or creationTTL.
func TestChildMemosAwaited(t *testing.T) {
	gvk := corev1.SchemeGroupVersion.WithKind("Secret")
	ref := childRef{set: "copies", gvk: gvk, key: types.NamespacedName{Namespace: "n", Name: "s"}}

	var unwatched childMemos
	unwatched.wrote(ref, "1", "", "h", true)
	if unwatched.awaited(ref, "h") || !unwatched.pending(ref) {
		t.Fatal("without watched events a creation must be read (pending), not awaited")
	}

	c := childMemos{watched: map[schema.GroupVersionKind]bool{gvk: true}}
	c.wrote(ref, "1", "", "h", true)
	if !c.awaited(ref, "h") {
		t.Fatal("a fresh creation of a watched kind is not awaited")
	}
	if c.awaited(ref, "other") {
		t.Fatal("a creation of another desired state is awaited")
	}
	c.observed(gvk, ref.key)
	if c.awaited(ref, "h") {
		t.Fatal("still awaited after an event of the child")
	}
	if !c.pending(ref) {
		t.Fatal("no longer pending after an event: a reconcile that listed before it would POST again")
	}
	if !c.ours(ref, "1") {
		t.Fatal("the write's memo went with the pending creation")
	}

	c.wrote(ref, "2", "", "h", true)
	c.wrote(ref, "3", "2", "h", false)
	if c.pending(ref) {
		t.Fatal("still pending after a replace (it was read live)")
	}

	c.wrote(ref, "2", "", "h", true)
	c.seen(ref)
	if c.pending(ref) {
		t.Fatal("still pending after the cache listed the child")
	}

	c.wrote(ref, "3", "", "h", true)
	c.creating.Set(ref.object(), pendingCreate{at: time.Now().Add(-creationTTL)})
	if c.awaited(ref, "h") || c.pending(ref) {
		t.Fatal("still pending after creationTTL")
	}

	c.wrote(ref, "4", "", "h", true)
	c.forget(ref)
	if c.pending(ref) || c.wroteBefore(ref) {
		t.Fatal("a forgotten child is remembered")
	}
	var none *childMemos
	if none.awaited(ref, "h") {
		t.Fatal("nil memos await")
	}
}
