package authzpolicy

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var inForce = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "courier_admission_policy_in_force",
	Help: "1 when the admission policy " + PolicyName + " and its binding were last found in force as shipped, 0 when not " +
		"(then Courier takes over no object for conflictPolicy Adopt or Overwrite).",
})

func init() { metrics.Registry.MustRegister(inForce) }
