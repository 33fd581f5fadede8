// Package monitoring reads what Courier ships for monitoring — the alerts of
// config/prometheus/alerts.yaml and the Grafana dashboard of
// config/grafana/courier-dashboard.json — for the tests that prove them: the
// alerts' unit tests run by promtool (the real PromQL engine), the dashboard's
// checks, and the metric names both use, which the reliability suite checks
// against what a running Courier exports.
package monitoring
