package rollout

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// Why a workload's input change has not rolled yet: the reason label of
// courier_rollout_waiting_workloads, and the reason of the reconcile's Waiting
// outcome where there is one.
const (
	waitMissingInput = "MissingInput"
	waitCoalescing   = "CoalescingChanges"
	waitPaused       = "Paused"
	waitSchedule     = "OutsideSchedule"
	waitQueued       = "RolloutQueued"
)

// waitReason is the reason a decision leaves its workload waiting, or "" when it
// does not (nothing to roll, or rolled).
func waitReason(a action) string {
	switch a {
	case actHold:
		return waitMissingInput
	case actWait:
		return waitCoalescing
	case actPaused:
		return waitPaused
	case actScheduled:
		return waitSchedule
	}
	return ""
}

// waitingSet is which workloads wait and why, kept so the gauge counts each once:
// a workload moves between reasons, leaves when it rolls, opts out or is deleted
// (the controller's Gone hook). It holds names only, one entry per waiting workload.
type waitingSet struct {
	mu    sync.Mutex
	by    map[waitKey]string
	gauge *prometheus.GaugeVec
}

type waitKey struct {
	kind string
	key  types.NamespacedName
}

func newWaitingSet(g *prometheus.GaugeVec) *waitingSet {
	return &waitingSet{by: map[waitKey]string{}, gauge: g}
}

// set records that the kind's workload key waits for reason ("": it does not).
func (w *waitingSet) set(kind string, key types.NamespacedName, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := waitKey{kind, key}
	prev, ok := w.by[k]
	if ok && prev == reason {
		return
	}
	if ok {
		w.gauge.WithLabelValues(kind, prev).Dec()
		delete(w.by, k)
	}
	if reason != "" {
		w.by[k] = reason
		w.gauge.WithLabelValues(kind, reason).Inc()
	}
}
