package bench

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestBench runs the benchmark when BENCH_SCALE is "small" (CI, ~1 min) or "full"
// (`make bench`, ~15 min) and fails when a budget is missed. Sizes can be changed
// with flags after -args, e.g. `-args -fanout-namespaces=500`.
func TestBench(t *testing.T) {
	// envtest logs through controller-runtime's logger; the benchmark's own output
	// is the progress lines and the report.
	ctrllog.SetLogger(logr.Discard())
	if os.Getenv("BENCH_SCALE") == "" {
		t.Skip("set BENCH_SCALE=small or BENCH_SCALE=full to run the benchmark (make bench)")
	}
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	start := time.Now()
	logf := func(format string, args ...any) {
		t.Logf("[%6.1fs] "+format, append([]any{time.Since(start).Seconds()}, args...)...)
	}
	dir := cfg.WorkDir
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := Run(ctx, cfg, dir, logf)
	if err != nil {
		t.Fatal(err)
	}
	js := r.JSON()
	t.Log("JSON report:\n" + js)
	t.Log("\n" + r.Markdown())
	if cfg.OutFile != "" {
		if err := os.WriteFile(cfg.OutFile, []byte(js+"\n"), 0o644); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(cfg.OutFile, ".json")+".md", []byte(r.Markdown()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if cfg.PlotDir != "" {
		files, err := WritePlots([]byte(js), cfg.PlotDir)
		if err != nil {
			t.Error(err)
		}
		want := 0
		for g, n := range map[string]int{"propagation": 2, "rollout": 1, "memory": 1} {
			if slices.Contains(cfg.Groups, g) {
				want += n
			}
		}
		if len(files) != want {
			t.Errorf("plots: wrote %v, want %d for the groups %v", files, want, cfg.Groups)
		}
		t.Logf("plots: %v", files)
	}
	for _, f := range r.Failed() {
		t.Errorf("budget missed: %s", f)
	}
	t.Logf("benchmark took %s", time.Since(start).Round(time.Second))
}
