package reconciler

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the reconciler's Prometheus metrics, named under a namespace of the
// caller's choosing (Courier uses "courier"):
//
//   - <namespace>_reconcile_step_duration_seconds{controller,step}
//   - <namespace>_reconcile_outcomes_total{controller,step,outcome}
//   - <namespace>_child_operations_total{controller,step,verb,result}
//   - <namespace>_reconcile_not_ready_total{controller,reason}
//   - <namespace>_child_contests_total{controller,step}
//
// Create them once per process, register Collectors with a registry (for a
// controller-runtime manager, sigs.k8s.io/controller-runtime/pkg/metrics.Registry)
// and give them to every Builder with Builder.Metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	stepDuration    *prometheus.HistogramVec
	stepOutcomes    *prometheus.CounterVec
	childOperations *prometheus.CounterVec
	notReadyFacts   *prometheus.CounterVec
	contests        *prometheus.CounterVec
}

// NewMetrics returns the metrics named under namespace (a Prometheus metric name
// prefix, without the trailing underscore).
func NewMetrics(namespace string) *Metrics {
	return &Metrics{
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "reconcile_step_duration_seconds",
			Help:    "Duration of one reconcile step.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"controller", "step"}),
		stepOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "reconcile_outcomes_total",
			Help: "Outcomes of reconcile steps (done, transient, waiting, terminal).",
		}, []string{"controller", "step", "outcome"}),
		childOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "child_operations_total",
			Help: "Writes made by ChildSet steps, by verb (create, apply, update, delete, orphan; get for failed reads) " +
				"and result (success, error, conflict; exists for a create that found the name taken).",
		}, []string{"controller", "step", "verb", "result"}),
		contests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "child_contests_total",
			Help: "Fights found over children: another writer rewrote one ContestThreshold times within ContestWindow, and its repairs now back off.",
		}, []string{"controller", "step"}),
		notReadyFacts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "reconcile_not_ready_total",
			Help: "Reconciles that completed with a NotReady fact, by its reason (the only trace of it for primaries without Courier status).",
		}, []string{"controller", "reason"}),
	}
}

// Collectors returns the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.stepDuration, m.stepOutcomes, m.childOperations, m.notReadyFacts, m.contests}
}

func (m *Metrics) step(controller, step string, outcome Outcome, took time.Duration) {
	if m == nil {
		return
	}
	m.stepDuration.WithLabelValues(controller, step).Observe(took.Seconds())
	m.stepOutcomes.WithLabelValues(controller, step, string(outcome)).Inc()
}

func (m *Metrics) child(controller, step, verb, result string) {
	if m != nil {
		m.childOperations.WithLabelValues(controller, step, verb, result).Inc()
	}
}

func (m *Metrics) contest(controller, step string) {
	if m != nil {
		m.contests.WithLabelValues(controller, step).Inc()
	}
}

func (m *Metrics) notReady(controller, reason string) {
	if m != nil {
		m.notReadyFacts.WithLabelValues(controller, reason).Inc()
	}
}
