package propagation

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// targetsGauge is the one metric of its own this package exports; the writes to
// copies are counted by the reconcile DSL (courier_child_operations_total).
var targetsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "courier_propagation_targets",
	Help: "Copies of one propagation by state (desired, synced, conflicting, failed). " +
		"propagation is cluster/<name> for ClusterPropagations and <namespace>/<name> for Propagations.",
}, []string{"propagation", "state"})

func init() {
	metrics.Registry.MustRegister(targetsGauge)
}

func forgetMetrics(name string) {
	for _, st := range []string{"desired", "synced", "conflicting", "failed"} {
		targetsGauge.DeleteLabelValues(name, st)
	}
}
