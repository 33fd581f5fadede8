package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Report is everything one run measured. It is printed as JSON and as a markdown
// table (docs/performance.md shows the latest full run).
type Report struct {
	Scale     string `json:"scale"`
	Date      string `json:"date"`
	Machine   string `json:"machine"`
	GoVersion string `json:"go_version"`
	// Parallelism is the baseline client's concurrency (Courier's --child-parallelism default).
	Parallelism int `json:"baseline_parallelism"`
	// Scenarios holds the detailed figures per scenario (latencies, writes by verb).
	Scenarios map[string]any `json:"scenarios"`
	// Rows are the markdown table.
	Rows []Row `json:"rows"`
	// Budgets are the pass/fail checks.
	Budgets []Budget `json:"budgets"`
	// Errors are scenario failures that prevented a measurement.
	Errors []string `json:"errors,omitempty"`
}

// Row is one line of the table: a figure for Courier, the baseline's figure and the
// ratio where there is a baseline.
type Row struct {
	Scenario string `json:"scenario"`
	Metric   string `json:"metric"`
	Courier  string `json:"courier"`
	Baseline string `json:"baseline,omitempty"`
	Ratio    string `json:"ratio,omitempty"`
}

// Budget is one pass/fail check.
type Budget struct {
	Name     string `json:"name"`
	Limit    string `json:"limit"`
	Measured string `json:"measured"`
	// Checked is false when the budget does not apply to this mode (times in small
	// mode); such a budget never fails the run.
	Checked bool   `json:"checked"`
	OK      bool   `json:"ok"`
	Why     string `json:"why,omitempty"`
	// Target, when set, says why this is a goal reported but not yet enforced
	// (Checked is false): the enforced budget next to it guards what was reached.
	Target string `json:"target,omitempty"`
}

func newReport(cfg Config) *Report {
	return &Report{
		Scale: cfg.Scale, Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(),
		GoVersion: runtime.Version(), Parallelism: cfg.Parallelism, Scenarios: map[string]any{},
	}
}

func (r *Report) row(scenario, metric, courier, baseline, ratio string) {
	r.Rows = append(r.Rows, Row{scenario, metric, courier, baseline, ratio})
}

func (r *Report) budget(b Budget) { r.Budgets = append(r.Budgets, b) }

func (r *Report) fail(scenario string, err error) {
	r.Errors = append(r.Errors, fmt.Sprintf("%s: %v", scenario, err))
}

// Failed lists the budgets that were checked and missed, and scenario errors.
func (r *Report) Failed() []string {
	var out []string
	for _, b := range r.Budgets {
		if b.Checked && !b.OK {
			s := fmt.Sprintf("%s: measured %s, limit %s", b.Name, b.Measured, b.Limit)
			if b.Why != "" {
				s += " (" + b.Why + ")"
			}
			out = append(out, s)
		}
	}
	return append(out, r.Errors...)
}

// JSON renders the report.
func (r *Report) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// Markdown renders the figures and the budgets as two tables.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scale `%s`, %s, %s, %s, baseline parallelism %d.\n\n", r.Scale, r.Date, r.Machine, r.GoVersion, r.Parallelism)
	b.WriteString("| scenario | metric | Courier | raw-client baseline | ratio |\n|---|---|---|---|---|\n")
	for _, x := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.Scenario, x.Metric, x.Courier, dash(x.Baseline), dash(x.Ratio))
	}
	b.WriteString("\n| budget | limit | measured | result |\n|---|---|---|---|\n")
	for _, x := range r.Budgets {
		res := "pass"
		switch {
		case x.Target != "" && x.OK:
			res = "target met (" + x.Target + ")"
		case x.Target != "":
			res = "target not met yet (" + x.Target + ")"
		case !x.Checked:
			res = "not checked (" + r.Scale + " mode)"
		case !x.OK:
			res = "**FAIL**"
			if x.Why != "" {
				res += ": " + x.Why
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.Name, x.Limit, x.Measured, res)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "\n**error**: %s\n", e)
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// machine describes the CPU and memory the run had.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (%s)%s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, mem)
}

func secs(s float64) string { return fmt.Sprintf("%.2f s", s) }

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func ratio(courier, baseline float64) (string, float64) {
	if baseline <= 0 {
		return "", 0
	}
	q := courier / baseline
	return fmt.Sprintf("%.2f×", q), q
}
