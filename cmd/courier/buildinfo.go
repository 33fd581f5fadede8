package main

import (
	"fmt"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/courier-operator/courier/internal/version"
)

// registerBuildInfo exports courier_build_info, 1 with the build's version: the
// series every Courier process has from its start, so the alerts and the dashboard
// (config/prometheus, config/grafana) can pick Courier's controller-runtime metrics
// (workqueue_*, controller_runtime_*) out of every operator's with
// `and on (job, instance) courier_build_info`, whatever the scrape job is called.
func registerBuildInfo() error {
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "courier_build_info",
		Help: "Always 1, labelled with the build's version, commit and Go version.",
	}, []string{"version", "commit", "go_version"})
	info.WithLabelValues(version.Version, version.Commit, runtime.Version()).Set(1)
	if err := ctrlmetrics.Registry.Register(info); err != nil {
		return fmt.Errorf("registering courier_build_info: %w", err)
	}
	return nil
}
