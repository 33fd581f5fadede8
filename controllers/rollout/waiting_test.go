package rollout

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
)

// TestWaitingSetCountsEachWorkloadOnce: a workload that moves from one reason to
// another, is set twice, or stops waiting is counted once, under its reason now.
func TestWaitingSetCountsEachWorkloadOnce(t *testing.T) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "waiting"}, []string{"kind", "reason"})
	w := newWaitingSet(g)
	a := types.NamespacedName{Namespace: "ns", Name: "a"}
	b := types.NamespacedName{Namespace: "ns", Name: "b"}
	value := func(kind, reason string) float64 { return testutil.ToFloat64(g.WithLabelValues(kind, reason)) }

	w.set("Deployment", a, waitReason(actWait))
	w.set("Deployment", a, waitReason(actWait))
	w.set("Deployment", b, waitReason(actHold))
	w.set("StatefulSet", a, waitReason(actHold)) // another kind, same name
	if got := value("Deployment", waitCoalescing); got != 1 {
		t.Errorf("coalescing = %v, want 1 (set twice, counted once)", got)
	}
	if got := value("Deployment", waitMissingInput) + value("StatefulSet", waitMissingInput); got != 2 {
		t.Errorf("missing input = %v, want 2", got)
	}

	w.set("Deployment", a, waitQueued)
	if c, q := value("Deployment", waitCoalescing), value("Deployment", waitQueued); c != 0 || q != 1 {
		t.Errorf("after a move: coalescing %v, queued %v; want 0, 1", c, q)
	}
	w.set("Deployment", a, waitReason(actRollout))
	w.set("Deployment", b, "")
	w.set("Deployment", b, "") // gone twice
	if q, m := value("Deployment", waitQueued), value("Deployment", waitMissingInput); q != 0 || m != 0 {
		t.Errorf("after rolling and leaving: queued %v, missing %v; want 0, 0", q, m)
	}
	if len(w.by) != 1 {
		t.Errorf("entries kept = %d, want 1 (the StatefulSet only)", len(w.by))
	}
	for act, want := range map[action]string{actHold: waitMissingInput, actWait: waitCoalescing, actPaused: waitPaused,
		actScheduled: waitSchedule, actRollout: "", actNone: "", actBaseline: "", actRebaseline: "", actAlreadyRolled: ""} {
		if got := waitReason(act); got != want {
			t.Errorf("waitReason(%s) = %q, want %q", act, got, want)
		}
	}
}

// TestForgetLeavesNothingOfAGoneWorkload: a workload deleted outright (its
// reconcile finds it gone, with no UID) or re-created under its name leaves no entry
// in the per-UID maps or the waiting gauge.
func TestForgetLeavesNothingOfAGoneWorkload(t *testing.T) {
	r := newSyncer(Options{})
	key := types.NamespacedName{Namespace: "ns", Name: "app"}
	entries := func() int {
		n := 0
		for _, m := range []*sync.Map{&r.reported, &r.recorded, &r.scheduled, &r.uids} {
			m.Range(func(any, any) bool { n++; return true })
		}
		return n
	}
	keep := func(uid types.UID) {
		r.track("Deployment", key, uid)
		r.reported.Store(uid, "problems")
		r.recorded.Store(uid, struct{}{})
		r.scheduled.Store(uid, "Mon 22:00")
	}
	keep("uid-1")
	r.waiting.set("Deployment", key, waitCoalescing)
	keep("uid-2") // deleted and re-created under its name
	if n := entries(); n != 4 {
		t.Errorf("after a re-create: %d entries, want 4 (the new object's only)", n)
	}
	r.forget("Deployment", key) // its reconcile found it gone
	if n := entries(); n != 0 {
		t.Errorf("after it was gone: %d entries, want 0", n)
	}
	if len(r.waiting.by) != 0 {
		t.Errorf("the waiting gauge still counts it: %v", r.waiting.by)
	}
}
