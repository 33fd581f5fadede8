package monitoring

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"sigs.k8s.io/yaml"
)

// Paths of the shipped files, relative to the repository root.
const (
	AlertsFile    = "config/prometheus/alerts.yaml"
	DashboardFile = "config/grafana/courier-dashboard.json"
)

// Rule is one alerting rule of the PrometheusRule.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// RuleGroup is one group of the PrometheusRule's spec.groups, which is also the
// format of a Prometheus rule file.
type RuleGroup struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

type prometheusRule struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Groups []RuleGroup `json:"groups"`
	} `json:"spec"`
}

// Alerts reads the rule groups of the shipped PrometheusRule.
func Alerts(root string) ([]RuleGroup, error) {
	b, err := os.ReadFile(filepath.Join(root, AlertsFile))
	if err != nil {
		return nil, err
	}
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(b, &pr); err != nil {
		return nil, fmt.Errorf("%s: %w", AlertsFile, err)
	}
	if pr.Kind != "PrometheusRule" || len(pr.Spec.Groups) == 0 {
		return nil, fmt.Errorf("%s: want a PrometheusRule with groups, got kind %q with %d groups", AlertsFile, pr.Kind, len(pr.Spec.Groups))
	}
	return pr.Spec.Groups, nil
}

// RuleFile renders groups as a Prometheus rule file (what promtool reads).
func RuleFile(groups []RuleGroup) ([]byte, error) {
	return yaml.Marshal(map[string]any{"groups": groups})
}

// Dashboard is the part of a Grafana dashboard the checks read.
type Dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

// Panel is one dashboard panel.
type Panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *Datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *Datasource `json:"datasource"`
	} `json:"targets"`
}

// Datasource is a panel's or a query's data source.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// ReadDashboard reads the shipped dashboard.
func ReadDashboard(root string) (*Dashboard, error) {
	b, err := os.ReadFile(filepath.Join(root, DashboardFile))
	if err != nil {
		return nil, err
	}
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", DashboardFile, err)
	}
	return &d, nil
}

// Exprs returns every query of the dashboard's panels.
func (d *Dashboard) Exprs() []string {
	var out []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			out = append(out, t.Expr)
		}
	}
	return out
}

var (
	quoted = regexp.MustCompile(`"[^"]*"`)
	// Label matchers and label lists (by, on, without, ignoring, group_left/right)
	// hold label names, not metric names.
	matchers   = regexp.MustCompile(`\{[^}]*\}`)
	labelLists = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// A metric name of the families Courier exports: its own, controller-runtime's,
	// client-go's and the Go and process collectors'.
	metricName = regexp.MustCompile(`\b(courier|controller_runtime|workqueue|rest_client|process|go)_[a-zA-Z0-9_]+\b`)
)

// MetricNames returns the metric names exprs use, sorted, each once. Histogram
// series keep their _bucket, _sum or _count suffix: those are the names scraped.
func MetricNames(exprs ...string) []string {
	var out []string
	for _, e := range exprs {
		e = quoted.ReplaceAllString(e, `""`)
		e = matchers.ReplaceAllString(e, "")
		e = labelLists.ReplaceAllString(e, "")
		out = append(out, metricName.FindAllString(e, -1)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ShippedMetricNames returns the metric names the shipped alerts and dashboard use.
func ShippedMetricNames(root string) ([]string, error) {
	groups, err := Alerts(root)
	if err != nil {
		return nil, err
	}
	d, err := ReadDashboard(root)
	if err != nil {
		return nil, err
	}
	exprs := d.Exprs()
	for _, g := range groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	return MetricNames(exprs...), nil
}
