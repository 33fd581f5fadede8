package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/courier-operator/courier/internal/contenthash"
	"github.com/courier-operator/courier/internal/schedule"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const window, maxDelay = 5 * time.Second, 50 * time.Second

// testPolicy coalesces with window and maxDelay, any time.
var testPolicy = policy{Window: window, MaxDelay: maxDelay}

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
	d := decide(record{TemplateHash: "user-set"}, obs, false, t0, testPolicy)
	if d.Action != actBaseline || d.Next.AppliedHash != obs.Hash || d.Next.TemplateHash != "user-set" || d.Next.Pending != nil {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideUnchangedDoesNothing(t *testing.T) {
	obs := obsOf("configmap/a=1", "secret/b=2")
	cur := recordOf(obs, "")
	d := decide(cur, obs, false, t0, testPolicy)
	if d.Action != actNone || !sameRecord(cur, d.Next) {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideChangeWaitsThenRollsOnce(t *testing.T) {
	before := obsOf("configmap/a=1", "secret/b=2")
	after := obsOf("configmap/a=3", "secret/b=2")
	cur := recordOf(before, "")

	d := decide(cur, after, false, t0, testPolicy)
	if d.Action != actWait || !d.NewChange || d.RequeueAfter != window || d.Next.Pending == nil {
		t.Fatalf("first observation: %+v", d)
	}
	if len(d.Changed) != 1 || d.Changed[0] != "configmap/a" {
		t.Fatalf("changed = %v", d.Changed)
	}
	stored := readRecordRoundTrip(d.Next)

	d = decide(stored, after, false, t0.Add(2*time.Second), testPolicy)
	if d.Action != actWait || d.NewChange || d.RequeueAfter != 3*time.Second || !sameRecord(stored, d.Next) {
		t.Fatalf("inside window: %+v", d)
	}

	d = decide(stored, after, false, t0.Add(window), testPolicy)
	if d.Action != actRollout || d.Next.TemplateHash != after.Hash || d.Next.AppliedHash != after.Hash || d.Next.Pending != nil || d.Delay != window {
		t.Fatalf("after window: %+v", d)
	}
	// After the rollout is stored, the same inputs do nothing.
	d = decide(readRecordRoundTrip(d.Next), after, false, t0.Add(time.Minute), testPolicy)
	if d.Action != actNone {
		t.Fatalf("after rollout: %+v", d)
	}
}

func TestDecideSecondChangeRestartsWindowKeepsSince(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	d := decide(cur, obsOf("configmap/a=2"), false, t0, testPolicy)
	stored := readRecordRoundTrip(d.Next)
	d = decide(stored, obsOf("configmap/a=3"), false, t0.Add(4*time.Second), testPolicy)
	if d.Action != actWait || !d.NewChange || d.RequeueAfter != window || !d.Next.Pending.Since.Equal(t0) {
		t.Fatalf("second change: %+v", d)
	}
	stored = readRecordRoundTrip(d.Next)
	d = decide(stored, obsOf("configmap/a=3"), false, t0.Add(9*time.Second), testPolicy)
	if d.Action != actRollout || d.Delay != 9*time.Second {
		t.Fatalf("rollout: %+v", d)
	}
}

func TestDecideMaxDelayBoundsABurst(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	cur.Pending = &pending{Hash: "old", Since: t0, Last: t0}
	d := decide(cur, obsOf("configmap/a=9"), false, t0.Add(maxDelay), testPolicy)
	if d.Action != actRollout {
		t.Fatalf("a burst longer than maxDelay must roll: %+v", d)
	}
}

func TestDecideRevertedChangeRollsNothing(t *testing.T) {
	before := obsOf("configmap/a=1")
	cur := recordOf(before, "")
	d := decide(cur, obsOf("configmap/a=2"), false, t0, testPolicy)
	d = decide(readRecordRoundTrip(d.Next), before, false, t0.Add(time.Second), testPolicy)
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
		d := decide(cur, obs, false, t0, testPolicy)
		if d.Action != actRebaseline || d.Next.AppliedHash != obs.Hash || d.Next.TemplateHash != "h" {
			t.Errorf("%s: %+v", name, d)
		}
	}
	// Unreadable per-input record: never roll on garbage.
	broken := cur
	broken.AppliedRefs = nil
	if d := decide(broken, obsOf("configmap/a=2"), false, t0, testPolicy); d.Action != actRebaseline {
		t.Errorf("unreadable record: %+v", d)
	}
}

func TestDecideOptionalInputAppearingOrVanishingIsAChange(t *testing.T) {
	cur := recordOf(obsOf("configmap/opt=absent"), "")
	d := decide(cur, obsOf("configmap/opt=5"), false, t0, testPolicy)
	if d.Action != actWait || len(d.Changed) != 1 {
		t.Fatalf("appearing: %+v", d)
	}
}

func TestDecideHoldsWhileRequiredInputMissing(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1", "secret/b=2"), "")
	obs := obsOf("configmap/a=3", "secret/b=absent")
	obs.MissingRequired = []string{"secret/b"}
	d := decide(cur, obs, false, t0.Add(time.Hour), testPolicy)
	if d.Action != actHold || !sameRecord(cur, d.Next) {
		t.Fatalf("got %+v", d)
	}
}

func TestDecidePausedTracksAndRollsOnceWhenUnpaused(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	after := obsOf("configmap/a=2")
	d := decide(cur, after, true, t0, testPolicy)
	if d.Action != actPaused || d.Next.Pending == nil || d.RequeueAfter != 0 {
		t.Fatalf("paused: %+v", d)
	}
	stored := readRecordRoundTrip(d.Next)
	d = decide(stored, after, true, t0.Add(time.Hour), testPolicy)
	if d.Action != actPaused || !sameRecord(stored, d.Next) {
		t.Fatalf("still paused must write nothing: %+v", d)
	}
	d = decide(stored, after, false, t0.Add(time.Hour), testPolicy)
	if d.Action != actRollout {
		t.Fatalf("unpaused: %+v", d)
	}
}

func TestDecideStaleReadOfOwnRolloutIsNotCountedTwice(t *testing.T) {
	after := obsOf("configmap/a=2")
	cur := recordOf(obsOf("configmap/a=1"), after.Hash)
	cur.Pending = &pending{Hash: after.Hash, Since: t0, Last: t0}
	d := decide(cur, after, false, t0.Add(time.Minute), testPolicy)
	if d.Action != actAlreadyRolled || d.Next.AppliedHash != after.Hash {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideClampsFutureTimestamps(t *testing.T) {
	cur := recordOf(obsOf("configmap/a=1"), "")
	after := obsOf("configmap/a=2")
	cur.Pending = &pending{Hash: after.Hash, Since: t0.Add(time.Hour), Last: t0.Add(time.Hour)}
	d := decide(cur, after, false, t0, testPolicy)
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

func TestDecideWaitsForTheWindowAndRollsOnceWhenItOpens(t *testing.T) {
	// t0 is Friday 27 November 2026, 12:00 UTC; the window opens Saturday at 02:00.
	ws, err := schedule.ParseWindows("Sat,Sun 02:00-04:00")
	if err != nil {
		t.Fatal(err)
	}
	p := testPolicy
	p.Windows = ws
	opens := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	cur := recordOf(obsOf("configmap/a=1"), "")
	after := obsOf("configmap/a=2")

	d := decide(cur, after, false, t0, p)
	if d.Action != actWait {
		t.Fatalf("a fresh change waits for the coalescing window first: %+v", d)
	}
	stored := readRecordRoundTrip(d.Next)
	d = decide(stored, after, false, t0.Add(window), p)
	if d.Action != actScheduled || !d.RollsAt.Equal(opens) || d.RequeueAfter != opens.Sub(t0.Add(window)) || d.Next.Pending == nil {
		t.Fatalf("outside the window: %+v", d)
	}
	if !sameRecord(stored, d.Next) {
		t.Fatalf("waiting for the window writes nothing: %+v vs %+v", stored, d.Next)
	}
	// A restart in between: the state on the workload is all there is.
	stored = readRecordRoundTrip(d.Next)
	d = decide(stored, after, false, opens.Add(-time.Second), p)
	if d.Action != actScheduled {
		t.Fatalf("a second before: %+v", d)
	}
	d = decide(stored, after, false, opens, p)
	if d.Action != actRollout || !d.Next.LastRollout.Equal(opens) || d.Next.Pending != nil {
		t.Fatalf("when the window opens: %+v", d)
	}
	d = decide(readRecordRoundTrip(d.Next), after, false, opens.Add(time.Minute), p)
	if d.Action != actNone {
		t.Fatalf("after the rollout: %+v", d)
	}
}

func TestDecideKeepsTheMinimumIntervalBetweenRollouts(t *testing.T) {
	p := testPolicy
	p.MinInterval = time.Hour
	cur := recordOf(obsOf("configmap/a=1"), "")
	cur.LastRollout = t0.Add(-10 * time.Minute)
	after := obsOf("configmap/a=2")
	stored := readRecordRoundTrip(decide(cur, after, false, t0, p).Next)
	if !stored.LastRollout.Equal(cur.LastRollout) {
		t.Fatalf("the last rollout must survive a pending change: %v", stored.LastRollout)
	}
	d := decide(stored, after, false, t0.Add(window), p)
	if want := cur.LastRollout.Add(time.Hour); d.Action != actScheduled || !d.RollsAt.Equal(want) {
		t.Fatalf("inside the interval: %+v, want a rollout at %s", d, want)
	}
	if d = decide(stored, after, false, cur.LastRollout.Add(time.Hour), p); d.Action != actRollout {
		t.Fatalf("once the interval has passed: %+v", d)
	}
	// A last rollout in the future (another replica's clock) counts as now.
	stored.LastRollout = t0.Add(24 * time.Hour)
	if d = decide(stored, after, false, t0.Add(window), p); d.Action != actScheduled || !d.RollsAt.Equal(t0.Add(window).Add(time.Hour)) {
		t.Fatalf("future last rollout: %+v", d)
	}
}
