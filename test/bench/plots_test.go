package bench

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWritePlots draws the plots of a synthetic report and checks each is an SVG
// document carrying its title and legend; scenarios that did not run get no plot.
func TestWritePlots(t *testing.T) {
	ramp := func(n int, total time.Duration) latency {
		d := make([]time.Duration, n)
		for i := range d {
			d[i] = total * time.Duration(i+1) / time.Duration(n)
		}
		return summarize(d)
	}
	r := newReport(Config{Scale: "small"})
	r.Scenarios["propagation"] = &propagationResult{Namespaces: 100,
		Fanout: ramp(100, 2*time.Second), BaselineCreate: ramp(100, time.Second),
		Update: ramp(100, time.Second), BaselineUpdate: ramp(100, time.Second)}
	r.Scenarios["rollout"] = &rolloutResult{Deployments: 50, Rollout: ramp(50, 3*time.Second)}
	r.Scenarios["memory_growth"] = &growthResult{Points: []growthPoint{
		{SteadyRSS: 40 << 20, HeapInuse: 9 << 20}, {Secrets: 1000, ConfigMaps: 500, SteadyRSS: 42 << 20, HeapInuse: 10 << 20}}}
	dir := t.TempDir()
	files, err := WritePlots([]byte(r.JSON()), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"fanout.svg":           {"Fan-out: one Secret to 100 namespaces", "Courier", "raw client"},
		"update.svg":           {"Update: the Secret changes, 100 copies", "raw client"},
		"rollout.svg":          {"Rollout: 50 Deployments share one ConfigMap", "Courier"},
		"memory-unrelated.svg": {"Memory against Secrets and ConfigMaps", "steady RSS", "Go heap in use"},
	}
	if len(files) != len(want) {
		t.Errorf("wrote %v, want %d plots", files, len(want))
	}
	for name, texts := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if err := xml.Unmarshal(b, new(struct{ XMLName xml.Name })); err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("%s is no SVG document: %v", name, err)
		}
		for _, text := range texts {
			if !strings.Contains(string(b), text) {
				t.Errorf("%s does not show %q", name, text)
			}
		}
	}

	// Only the rollout group ran: one plot.
	only := newReport(Config{Scale: "small"})
	only.Scenarios["rollout"] = r.Scenarios["rollout"]
	if files, err := WritePlots([]byte(only.JSON()), t.TempDir()); err != nil || len(files) != 1 {
		t.Errorf("a rollout-only report: %v, %v; want rollout.svg alone", files, err)
	}
	// A report without curves (older than the plots) is an error, not an empty plot.
	var old map[string]any
	if err := json.Unmarshal([]byte(only.JSON()), &old); err != nil {
		t.Fatal(err)
	}
	delete(old["scenarios"].(map[string]any)["rollout"].(map[string]any)["rollout"].(map[string]any), "curve_s")
	b, _ := json.Marshal(old)
	if _, err := WritePlots(b, t.TempDir()); err == nil || !strings.Contains(err.Error(), "no arrival curve") {
		t.Errorf("a report without curves: %v, want an error saying so", err)
	}
}
