package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/courier-operator/courier/internal/contenthash"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const window, maxDelay = 5 * time.Second, 50 * time.Second

// obsOf builds an observation from "ref=digest" pairs.
func obsOf(pairs ...string) observation {
	o := observation{Digests: map[string]string{}}
	var entries []contenthash.Entry
	for _, p := range pairs {
		k, d, _ := strings.Cut(p, "=")
		d = strings.Repeat(d, 64/len(d)+1)[:64]
		if strings.HasPrefix(p, k+"=absent") {
			d = contenthash.Absent
		}
		o.Digests[k] = d
		entries = append(entries, contenthash.Entry{Key: k, Digest: d})
	}
	o.Hash = contenthash.Combine(entries)
	return o
}

// recordOf is the record stored after applying obs.
func recordOf(obs observation, template string) record {
	return record{AppliedHash: obs.Hash, AppliedRefs: obs.refDigests(), TemplateHash: template}
}

func TestDecideFirstSightRecordsBaseline(t *testing.T) {
	obs := obsOf("configmap/a=1")
	d := decide(record{TemplateHash: "user-set"}, obs, false, t0, window, maxDelay)
	if d.Action != actBaseline || d.Next.AppliedHash != obs.Hash || d.Next.TemplateHash != "user-set" || d.Next.Pending != nil {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideUnchangedDoesNothing(t *testing.T) {
	obs := obsOf("configmap/a=1", "secret/b=2")
	cur := recordOf(obs, "")
	d := decide(cur, obs, false, t0, window, maxDelay)
	if d.Action != actNone || !sameRecord(cur, d.Next) {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideChangeWaitsThenRollsOnce(t *testing.T) {
	before := obsOf("configmap/a=1", "secret/b=2")
	after := obsOf("configmap/a=3", "secret/b=2")
	cur := recordOf(before, "")

	d := decide(cur, after, false, t0, window, maxDelay)
	if d.Action != actWait || !d.NewChange || d.RequeueAfter != window || d.Next.Pending == nil {
		t.Fatalf("first observation: %+v", d)
	}
	if len(d.Changed) != 1 || d.Changed[0] != "configmap/a" {
		t.Fatalf("changed = %v", d.Changed)
	}
	stored := readRecordRoundTrip(d.Next)

	d = decide(stored, after, false, t0.Add(2*time.Second), window, maxDelay)
	if d.Action != actWait || d.NewChange || d.RequeueAfter != 3*time.Second || !sameRecord(stored, d.Next) {
		t.Fatalf("inside window: %+v", d)
	}

	d = decide(stored, after, false, t0.Add(window), window, maxDelay)
	if d.Action != actRollout || d.Next.TemplateHash != after.Hash || d.Next.AppliedHash != after.Hash || d.Next.Pending != nil || d.Delay != window {
		t.Fatalf("after window: %+v", d)
	}
	// After the rollout is stored, the same inputs do nothing.
	d = decide(readRecordRoundTrip(d.Next), after, false, t0.Add(time.Minute), window, maxDelay)
	if d.Action != actNone {
		t.Fatalf("after rollout: %+v", d)
	}
}

func TestDecideSecondChangeRestartsWindowKeepsSince(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	d := decide(cur, obsOf("configmap/a=2"), false, t0, window, maxDelay)
	stored := readRecordRoundTrip(d.Next)
	d = decide(stored, obsOf("configmap/a=3"), false, t0.Add(4*time.Second), window, maxDelay)
	if d.Action != actWait || !d.NewChange || d.RequeueAfter != window || !d.Next.Pending.Since.Equal(t0) {
		t.Fatalf("second change: %+v", d)
	}
	stored = readRecordRoundTrip(d.Next)
	d = decide(stored, obsOf("configmap/a=3"), false, t0.Add(9*time.Second), window, maxDelay)
	if d.Action != actRollout || d.Delay != 9*time.Second {
		t.Fatalf("rollout: %+v", d)
	}
}

func TestDecideMaxDelayBoundsABurst(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	cur.Pending = &pending{Hash: "old", Since: t0, Last: t0}
	d := decide(cur, obsOf("configmap/a=9"), false, t0.Add(maxDelay), window, maxDelay)
	if d.Action != actRollout {
		t.Fatalf("a burst longer than maxDelay must roll: %+v", d)
	}
}

func TestDecideRevertedChangeRollsNothing(t *testing.T) {
	before := obsOf("configmap/a=1")
	cur := recordOf(before, "")
	d := decide(cur, obsOf("configmap/a=2"), false, t0, window, maxDelay)
	d = decide(readRecordRoundTrip(d.Next), before, false, t0.Add(time.Second), window, maxDelay)
	if d.Action != actNone || d.Next.Pending != nil || sameRecord(readRecordRoundTrip(d.Next), d.Next) == false {
		t.Fatalf("revert: %+v", d)
	}
}

func TestDecideInputSetChangeRebaselines(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "h")
	for name, obs := range map[string]observation{
		"added":   obsOf("configmap/a=1", "secret/new=7"),
		"removed": obsOf(),
		"renamed": obsOf("configmap/b=1"),
	} {
		d := decide(cur, obs, false, t0, window, maxDelay)
		if d.Action != actRebaseline || d.Next.AppliedHash != obs.Hash || d.Next.TemplateHash != "h" {
			t.Errorf("%s: %+v", name, d)
		}
	}
	// Unreadable per-input record: never roll on garbage.
	broken := cur
	broken.AppliedRefs = nil
	if d := decide(broken, obsOf("configmap/a=2"), false, t0, window, maxDelay); d.Action != actRebaseline {
		t.Errorf("unreadable record: %+v", d)
	}
}

func TestDecideOptionalInputAppearingOrVanishingIsAChange(t *testing.T) {
	cur := recordOf(obsOf("configmap/opt=absent"), "")
	d := decide(cur, obsOf("configmap/opt=5"), false, t0, window, maxDelay)
	if d.Action != actWait || len(d.Changed) != 1 {
		t.Fatalf("appearing: %+v", d)
	}
}

func TestDecideHoldsWhileRequiredInputMissing(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1", "secret/b=2"), "")
	obs := obsOf("configmap/a=3", "secret/b=absent")
	obs.MissingRequired = []string{"secret/b"}
	d := decide(cur, obs, false, t0.Add(time.Hour), window, maxDelay)
	if d.Action != actHold || !sameRecord(cur, d.Next) {
		t.Fatalf("got %+v", d)
	}
}

func TestDecidePausedTracksAndRollsOnceWhenUnpaused(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	after := obsOf("configmap/a=2")
	d := decide(cur, after, true, t0, window, maxDelay)
	if d.Action != actPaused || d.Next.Pending == nil || d.RequeueAfter != 0 {
		t.Fatalf("paused: %+v", d)
	}
	stored := readRecordRoundTrip(d.Next)
	d = decide(stored, after, true, t0.Add(time.Hour), window, maxDelay)
	if d.Action != actPaused || !sameRecord(stored, d.Next) {
		t.Fatalf("still paused must write nothing: %+v", d)
	}
	d = decide(stored, after, false, t0.Add(time.Hour), window, maxDelay)
	if d.Action != actRollout {
		t.Fatalf("unpaused: %+v", d)
	}
}

func TestDecideStaleReadOfOwnRolloutIsNotCountedTwice(t *testing.T) {
	after := obsOf("configmap/a=2")
	cur := recordOf(obsOf("configmap/a=1"), after.Hash)
	cur.Pending = &pending{Hash: after.Hash, Since: t0, Last: t0}
	d := decide(cur, after, false, t0.Add(time.Minute), window, maxDelay)
	if d.Action != actAlreadyRolled || d.Next.AppliedHash != after.Hash {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideClampsFutureTimestamps(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	after := obsOf("configmap/a=2")
	cur.Pending = &pending{Hash: after.Hash, Since: t0.Add(time.Hour), Last: t0.Add(time.Hour)}
	d := decide(cur, after, false, t0, window, maxDelay)
	if d.Action != actWait || d.RequeueAfter != window {
		t.Fatalf("got %+v", d)
	}
}

// readRecordRoundTrip stores a record in annotations and reads it back, as the next
// reconcile would.
func readRecordRoundTrip(r record) record {
	tmpl := map[string]string{}
	if r.TemplateHash != "" {
		tmpl[AnnotationConfigHash] = r.TemplateHash
	}
	return readRecord(r.metaAnnotations(), tmpl)
}
