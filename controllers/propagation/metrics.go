package propagation

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/courier-operator/courier/pkg/reconciler"
)

var (
	targetsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "courier_propagation_targets",
		Help: "Copies of one propagation by state (desired, synced, conflicting, failed). " +
			"propagation is cluster/<name> for ClusterPropagations and <namespace>/<name> for Propagations.",
	}, []string{"propagation", "state"})
	copyOperations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_copy_operations_total",
		Help: "Copy operations by verb (create, update, delete, orphan, sync) and result (success, conflict, error).",
	}, []string{"verb", "result"})
	syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "courier_propagation_sync_duration_seconds",
		Help:    "Duration of one propagation sync (resolving sources and syncing every copy).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"controller"})
)

func init() {
	metrics.Registry.MustRegister(targetsGauge, copyOperations, syncDuration)
}

// recordOperations counts the copy operations of one ChildSet report.
func recordOperations(r reconciler.ChildReport) {
	for _, o := range r.Outcomes {
		switch o.Action {
		case reconciler.ChildCreated:
			copyOperations.WithLabelValues("create", "success").Inc()
		case reconciler.ChildUpdated:
			copyOperations.WithLabelValues("update", "success").Inc()
		case reconciler.ChildDeleted:
			copyOperations.WithLabelValues("delete", "success").Inc()
		case reconciler.ChildOrphaned:
			copyOperations.WithLabelValues("orphan", "success").Inc()
		case reconciler.ChildConflict:
			copyOperations.WithLabelValues("sync", "conflict").Inc()
		case reconciler.ChildFailed:
			copyOperations.WithLabelValues("sync", "error").Inc()
		}
	}
}

func forgetMetrics(name string) {
	for _, st := range []string{"desired", "synced", "conflicting", "failed"} {
		targetsGauge.DeleteLabelValues(name, st)
	}
}
