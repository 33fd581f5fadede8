package monitoring_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/test/monitoring"
)

const root = "../.."

var promtoolOnce struct {
	sync.Once
	path string
	err  error
}

// promtool builds Prometheus's promtool (pinned in hack/tools/prometheus) into bin/
// once per run: the rule tests need the real PromQL engine, never a stand-in.
func promtool(t *testing.T) string {
	t.Helper()
	promtoolOnce.Do(func() {
		abs, err := filepath.Abs(filepath.Join(root, "bin", "promtool"))
		if err != nil {
			promtoolOnce.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "-C", filepath.Join(root, "hack", "tools", "prometheus"),
			"build", "-o", abs, "github.com/prometheus/prometheus/cmd/promtool")
		if out, err := cmd.CombinedOutput(); err != nil {
			promtoolOnce.err = fmt.Errorf("building promtool: %w\n%s", err, out)
			return
		}
		promtoolOnce.path = abs
	})
	if promtoolOnce.err != nil {
		t.Fatal(promtoolOnce.err)
	}
	return promtoolOnce.path
}

// runPromtool runs promtool in dir and fails the test, with its output, on a
// non-zero exit.
func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func alerts(t *testing.T) []monitoring.RuleGroup {
	t.Helper()
	groups, err := monitoring.Alerts(root)
	if err != nil {
		t.Fatal(err)
	}
	return groups
}

// TestAlertRuleTests runs testdata/alerts_test.yaml with `promtool test rules`
// against the shipped rules: synthetic series, evaluated by the PromQL engine, each
// alert expected (labels and rendered annotations) or expected absent at each time.
func TestAlertRuleTests(t *testing.T) {
	dir := t.TempDir()
	rules, err := monitoring.RuleFile(alerts(t))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("testdata/alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"alerts.rules.yaml": rules, "alerts_test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out := runPromtool(t, dir, "check", "rules", "--lint=all", "--lint-fatal", "alerts.rules.yaml"); !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules: %s", out)
	}
	out := runPromtool(t, dir, "test", "rules", "alerts_test.yaml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules printed no SUCCESS:\n%s", out)
	}
	t.Logf("promtool test rules:\n%s", out)
}

type ruleTests struct {
	Tests []struct {
		Name       string `json:"name"`
		AlertTests []struct {
			EvalTime  string `json:"eval_time"`
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestEveryAlertIsTestedFiringAndResolving reads the rule tests: every shipped alert
// must be expected silent before it fires (its `for` is tested), firing, and silent
// again later (it resolves); no test may name an alert that does not exist.
func TestEveryAlertIsTestedFiringAndResolving(t *testing.T) {
	b, err := os.ReadFile("testdata/alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rt ruleTests
	if err := yaml.Unmarshal(b, &rt); err != nil {
		t.Fatal(err)
	}
	type seen struct{ firing, silent []time.Duration }
	byAlert := map[string]*seen{}
	for _, g := range alerts(t) {
		for _, r := range g.Rules {
			byAlert[r.Alert] = &seen{}
		}
	}
	for _, tc := range rt.Tests {
		for _, a := range tc.AlertTests {
			s, ok := byAlert[a.Alertname]
			if !ok {
				t.Errorf("test %q expects alert %s, which the rules do not have", tc.Name, a.Alertname)
				continue
			}
			at, err := time.ParseDuration(a.EvalTime)
			if err != nil {
				t.Fatalf("test %q: eval_time %q: %v", tc.Name, a.EvalTime, err)
			}
			if len(a.ExpAlerts) > 0 {
				s.firing = append(s.firing, at)
			} else {
				s.silent = append(s.silent, at)
			}
		}
	}
	for name, s := range byAlert {
		if len(s.firing) == 0 {
			t.Errorf("%s: no test expects it to fire", name)
			continue
		}
		first, last := slices.Min(s.firing), slices.Max(s.firing)
		if !slices.ContainsFunc(s.silent, func(d time.Duration) bool { return d < first }) {
			t.Errorf("%s: no test expects it silent before it fires (its `for` is untested)", name)
		}
		if !slices.ContainsFunc(s.silent, func(d time.Duration) bool { return d > last }) {
			t.Errorf("%s: no test expects it to resolve", name)
		}
	}
}

// TestEveryAlertHasARunbook: a severity, a summary and a description, and a
// runbook_url pointing at its own section of docs/operations.md, which exists.
func TestEveryAlertHasARunbook(t *testing.T) {
	ops, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://github.com/courier-operator/courier/blob/main/docs/operations.md#"
	for _, g := range alerts(t) {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule without alert (recording rules belong elsewhere): %q", g.Name, r.Expr)
				continue
			}
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
			}
			if r.For == "" {
				t.Errorf("%s: no `for`: one bad scrape would page", r.Alert)
			}
			for _, k := range []string{"summary", "description"} {
				if r.Annotations[k] == "" {
					t.Errorf("%s: no %s annotation", r.Alert, k)
				}
			}
			if want := base + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			if !strings.Contains(string(ops), "\n### "+r.Alert+"\n") {
				t.Errorf("%s: docs/operations.md has no section \"### %s\"", r.Alert, r.Alert)
			}
		}
	}
}

// TestDashboard checks the shipped dashboard: every query panel reads the
// dashboard's data source variable and filters by its job variable, ids are unique,
// panels fit the 24-column grid, and every query parses (promtool checks them as
// recording rules, with Grafana's variables substituted).
func TestDashboard(t *testing.T) {
	d, err := monitoring.ReadDashboard(root)
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed for provisioning", d.UID, d.Title)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["job"] != "query" {
		t.Errorf("template variables %v, want datasource (datasource) and job (query)", vars)
	}
	ids := map[int]string{}
	var rules []map[string]string
	for _, p := range d.Panels {
		if prev, ok := ids[p.ID]; ok {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos x %d w %d outside the 24 columns", p.Title, p.GridPos.X, p.GridPos.W)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if !strings.Contains(q.Expr, `job=~"$job"`) {
				t.Errorf("panel %q query %s: not filtered by the job variable: %s", p.Title, q.RefID, q.Expr)
			}
			expr := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*").Replace(q.Expr)
			rules = append(rules, map[string]string{"record": fmt.Sprintf("dashboard:panel%d:%s", p.ID, strings.ToLower(q.RefID)), "expr": expr})
		}
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard.rules.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, dir, "check", "rules", "dashboard.rules.yaml")
}

// TestMetricNames: names are found in functions, joins and histograms; label
// names, label values and Grafana variables are not names.
func TestMetricNames(t *testing.T) {
	got := monitoring.MetricNames(
		`histogram_quantile(0.9, sum by (name, le) (rate(workqueue_queue_duration_seconds_bucket[5m]) and on (job, go_version) courier_build_info{job=~"$job", state="courier_fake"}))`,
		`max by (propagation) (courier_propagation_targets{state="desired"}) - process_resident_memory_bytes`)
	want := []string{"courier_build_info", "courier_propagation_targets", "process_resident_memory_bytes", "workqueue_queue_duration_seconds_bucket"}
	if !slices.Equal(got, want) {
		t.Errorf("MetricNames = %v, want %v", got, want)
	}
	all, err := monitoring.ShippedMetricNames(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("metric names the alerts and the dashboard use: %v", all)
	if len(all) < 10 {
		t.Errorf("only %d metric names found in the shipped alerts and dashboard: %v", len(all), all)
	}
}
