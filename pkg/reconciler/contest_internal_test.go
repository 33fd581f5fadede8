package reconciler

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestContestsBackOffAndRecover drives Contests with a fake clock through a fight:
// a writer that rewrites an object every 100 ms for a minute gets a bounded number
// of repairs, and the object is repaired at once when the writer has been quiet for
// ContestQuiet.
func TestContestsBackOffAndRecover(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := &Contests{now: func() time.Time { return now }}
	version := 0
	edit := func() string { version++; return string(rune('a' + version%26)) }
	writes, started := 0, 0
	for range 600 { // 60 s of edits, one every 100 ms
		a := c.Admit("child", edit())
		if a.Started {
			started++
		}
		if a.Write {
			writes++
			c.Repaired("child")
		} else if a.Wait <= 0 || a.Wait > ContestCap {
			t.Fatalf("wait %s out of bounds", a.Wait)
		}
		now = now.Add(100 * time.Millisecond)
	}
	// ContestThreshold at once, then after 1, 2, 4, 8, 16 s (31 s), then 32 s more
	// would pass 60 s: 3 + 5 = 8.
	if writes != 8 || started != 1 {
		t.Fatalf("%d repairs (%d fights started) for 600 edits in 60 s, want 8 (and 1)", writes, started)
	}
	// The writer stops: the next repair waits no longer than ContestQuiet.
	last := edit()
	a := c.Admit("child", last)
	for a.Wait > 0 && !a.Write {
		if a.Wait > ContestQuiet {
			t.Fatalf("after the writer stopped, a repair waits %s (> %s)", a.Wait, ContestQuiet)
		}
		now = now.Add(a.Wait)
		a = c.Admit("child", last)
	}
	if !a.Write || a.Contested {
		t.Fatalf("after a quiet spell: %+v, want a repair", a)
	}
	c.Repaired("child")
	// A window without edits ends the fight: the next edits are repaired at once again.
	now = now.Add(ContestWindow)
	if a := c.Admit("child", edit()); !a.Write || a.Contested {
		t.Fatalf("a fresh edit after the fight: %+v", a)
	}
}

// TestContestsPausingWriter: a writer that pauses for ContestQuiet between bursts
// (or whose edits a loaded API server delays) costs one repair per pause on top of
// the backoff, not a fresh fight of ContestThreshold immediate repairs each time.
func TestContestsPausingWriter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := &Contests{now: func() time.Time { return now }}
	version := 0
	writes, started := 0, 0
	admit := func() Admission {
		a := c.Admit("child", string(rune('a'+version%26)))
		if a.Started {
			started++
		}
		if a.Write {
			writes++
			c.Repaired("child")
		}
		return a
	}
	for burst := range 4 { // 4 bursts of 5 s of edits every 100 ms, 3 s apart
		for range 50 {
			version++
			admit()
			now = now.Add(100 * time.Millisecond)
		}
		if burst == 3 {
			break
		}
		// In the pause the controller asks again until it repairs; then the object
		// is its own write, and nothing is asked until the next edit.
		repaired := false
		for pause := now.Add(3 * time.Second); now.Before(pause); now = now.Add(100 * time.Millisecond) {
			if !repaired {
				repaired = admit().Write
			}
		}
	}
	// 3 at once, then the backoff over 26 s (1, 2, 4, 8 s: 4 more), and one
	// repair in each of the 3 pauses: 10. Forgetting the fight in each pause
	// would cost 3 immediate repairs per burst instead.
	if writes > ContestThreshold+4+3 || started != 1 {
		t.Fatalf("%d repairs (%d fights started) for 4 bursts with 3 pauses, want <= %d (and 1)", writes, started, ContestThreshold+4+3)
	}
	if writes < ContestThreshold+3 {
		t.Fatalf("%d repairs: a pause of %s must be repaired", writes, ContestQuiet)
	}
}

func TestContestsBookkeeping(t *testing.T) {
	now := time.Unix(0, 0)
	c := &Contests{now: func() time.Time { return now }}
	for range ContestThreshold {
		c.Admit("k", "v")
		c.Repaired("k")
	}
	a := c.Admit("k", "v")
	if !a.Started || a.Write || a.Repairs != ContestThreshold {
		t.Fatalf("fight not found: %+v", a)
	}
	c.SetWriter("k", "kubectl-edit (Update)")
	c.SetWriter("unknown", "ignored")
	if a := c.Admit("k", "v"); a.Writer != "kubectl-edit (Update)" {
		t.Fatalf("writer = %q", a.Writer)
	}
	c.Forget("k")
	if a := c.Admit("k", "v"); !a.Write || a.Contested {
		t.Fatalf("forgotten key still contested: %+v", a)
	}
	// Bounded memory: past maxContests the quietest half goes.
	for i := range maxContests + 1 {
		c.Repaired(i)
		now = now.Add(time.Millisecond)
	}
	if len(c.m) > maxContests {
		t.Fatalf("%d contests remembered", len(c.m))
	}
	if backoff(1) != ContestBase || backoff(30) != ContestCap {
		t.Fatal("backoff out of its bounds")
	}
	var real Contests
	if a := real.Admit("x", "v"); !a.Write {
		t.Fatal("the zero Contests does not admit")
	}
}

// TestLastOtherWriter: the latest manager other than the owner is named; managers
// that wrote in the same second (managedFields' resolution, and the API server
// orders a tie by name) are all named instead of the alphabetically last one.
func TestLastOtherWriter(t *testing.T) {
	at := func(s int64) *metav1.Time { when := metav1.Unix(s, 0); return &when }
	entry := func(manager string, op metav1.ManagedFieldsOperationType, when *metav1.Time, sub string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Time: when, Subresource: sub}
	}
	for _, c := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    string
	}{
		{"none", nil, ""},
		{"only the owner", []metav1.ManagedFieldsEntry{entry("courier", metav1.ManagedFieldsOperationApply, at(5), "")}, ""},
		{"the latest other", []metav1.ManagedFieldsEntry{
			entry("courier", metav1.ManagedFieldsOperationApply, at(9), ""),
			entry("creator", metav1.ManagedFieldsOperationUpdate, at(1), ""),
			entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, at(5), ""),
			entry("status-writer", metav1.ManagedFieldsOperationUpdate, at(7), "status"),
		}, "kubectl-edit (Update)"},
		{"no time is older than any", []metav1.ManagedFieldsEntry{
			entry("untimed", metav1.ManagedFieldsOperationUpdate, nil, ""),
			entry("timed", metav1.ManagedFieldsOperationApply, at(1), ""),
		}, "timed (Apply)"},
		{"the same second names both", []metav1.ManagedFieldsEntry{
			entry("replacer", metav1.ManagedFieldsOperationUpdate, at(3), ""),
			entry("rollout.test", metav1.ManagedFieldsOperationUpdate, at(3), ""),
		}, "replacer (Update) or rollout.test (Update)"},
	} {
		obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ManagedFields: c.entries}}
		if got := lastOtherWriter(obj, "courier"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// metadataReader serves the live metadata of one object (the fake client manages
// managedFields itself and keeps none it is given).
type metadataReader struct {
	client.Reader
	key  client.ObjectKey
	meta metav1.ObjectMeta
	gvks []string // the kinds asked for
}

func (r *metadataReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	p := obj.(*metav1.PartialObjectMetadata)
	r.gvks = append(r.gvks, p.GroupVersionKind().String())
	if key != r.key {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
	}
	p.ObjectMeta = r.meta
	return nil
}

// TestOtherWriter reads the writer from the object's live metadata, of the kind
// asked, and names no one when the object cannot be read; messages then say
// "another writer".
func TestOtherWriter(t *testing.T) {
	when := metav1.Unix(7, 0)
	key := client.ObjectKey{Namespace: "ns", Name: "cm"}
	reader := &metadataReader{key: key, meta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: "courier", Operation: metav1.ManagedFieldsOperationApply, Time: &when},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, Time: &when},
	}}}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	if got := OtherWriter(context.Background(), reader, gvk, key, "courier"); got != "kubectl-edit (Update)" {
		t.Errorf("writer = %q", got)
	}
	if got := OtherWriter(context.Background(), reader, gvk, client.ObjectKey{Namespace: "ns", Name: "gone"}, "courier"); got != "" {
		t.Errorf("writer of a missing object = %q", got)
	}
	if want := gvk.String(); len(reader.gvks) != 2 || reader.gvks[0] != want {
		t.Errorf("kinds read %v, want %s", reader.gvks, want)
	}
	if w := (Admission{}).WriterOrAnother(); w != "another writer" {
		t.Errorf("unknown writer = %q", w)
	}
	if w := (Admission{Writer: "x (Update)"}).WriterOrAnother(); w != "x (Update)" {
		t.Errorf("known writer = %q", w)
	}
}
