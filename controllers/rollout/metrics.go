package rollout

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/courier-operator/courier/internal/contenthash"
)

// Rollout reasons (the reason label of courier_rollouts_total and of the RolledOut
// event's message).
const (
	// reasonContentChanged: an input that existed before and exists now changed.
	reasonContentChanged = "ContentChanged"
	// reasonInputCreated: an optional input that was absent now exists.
	reasonInputCreated = "InputCreated"
	// reasonInputDeleted: an optional input that existed was deleted.
	reasonInputDeleted = "InputDeleted"
)

var (
	rolloutsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_rollouts_total",
		Help: "Rollouts triggered by input changes, by workload kind and reason.",
	}, []string{"kind", "reason"})
	rolloutDelay = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "courier_rollout_delay_seconds",
		Help:    "Time from the first observed input change to the rollout (includes the coalescing window and pauses).",
		Buckets: []float64{0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600},
	}, []string{"kind"})
	missingInputs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_rollout_missing_inputs_total",
		Help: "Times a workload was found to reference a required ConfigMap or Secret that does not exist.",
	}, []string{"kind"})
	jobsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_rollout_jobs_started_total",
		Help: "Jobs started from a CronJob's new template when it rolled (courier.dev/rollout-run-now), by workload kind.",
	}, []string{"kind"})
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_rollout_decisions_total",
		Help: "Rollout decisions that wrote to a workload or held it (baseline, rebaseline, wait, paused, hold, rollout...).",
	}, []string{"kind", "decision"})
	waitingWorkloads = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "courier_rollout_waiting_workloads",
		Help: "Opted-in workloads whose input change has not rolled yet, by kind and reason " +
			"(MissingInput, CoalescingChanges, Paused, OutsideSchedule, RolloutQueued).",
	}, []string{"kind", "reason"})
)

func init() {
	metrics.Registry.MustRegister(rolloutsTotal, rolloutDelay, missingInputs, jobsStarted, decisions, waitingWorkloads)
}

// rolloutReason classifies a rollout by what happened to its changed inputs: a
// content change of an existing input wins over inputs appearing, which wins over
// inputs disappearing.
func rolloutReason(applied map[string]string, now map[string]string, changed []string) string {
	created, deleted := false, false
	for _, k := range changed {
		switch {
		case applied[k] == contenthash.Absent:
			created = true
		case now[k] == contenthash.Absent:
			deleted = true
		default:
			return reasonContentChanged
		}
	}
	if created {
		return reasonInputCreated
	}
	if deleted {
		return reasonInputDeleted
	}
	return reasonContentChanged
}
