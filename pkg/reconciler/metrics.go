package reconciler

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	stepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "courier_reconcile_step_duration_seconds",
		Help:    "Duration of one reconcile step.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	}, []string{"controller", "step"})
	stepOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_reconcile_outcomes_total",
		Help: "Outcomes of reconcile steps (done, transient, waiting, terminal).",
	}, []string{"controller", "step", "outcome"})
	childOperations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_child_operations_total",
		Help: "Writes made by ChildSet steps, by verb (create, apply, update, delete, orphan; get for failed reads) and result (success, error, conflict; exists for a create that found the name taken).",
	}, []string{"controller", "step", "verb", "result"})
	notReadyFacts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_reconcile_not_ready_total",
		Help: "Reconciles that completed with a NotReady fact, by its reason (the only trace of it for primaries without Courier status).",
	}, []string{"controller", "reason"})
)

func init() {
	metrics.Registry.MustRegister(stepDuration, stepOutcomes, childOperations, notReadyFacts)
}
