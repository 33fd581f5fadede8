package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/courier-operator/courier/test/managerproc"
)

// Run executes every scenario group, each on a control plane of its own (so the
// memory scenario's 30,000 objects do not slow the fan-out, and vice versa), and
// returns the report. logf receives progress lines.
func Run(ctx context.Context, cfg Config, dir string, logf func(format string, args ...any)) (*Report, error) {
	x := &run{cfg: cfg, dir: dir, r: newReport(cfg), logf: logf}
	if x.bin = cfg.CourierBinary; x.bin == "" {
		logf("building courier from the working tree")
		bin, err := managerproc.Build(ctx, managerproc.BuildOptions{Dir: dir})
		if err != nil {
			return nil, err
		}
		x.bin = bin
	}
	groups := []struct {
		name string
		fn   func(context.Context, *controlPlane, courierRunner) error
	}{
		{"propagation", x.propagation},
		{"rollout", x.rollouts},
		{"memory", x.memGroup},
		{"churn", x.churn},
		{"scale", x.scale},
	}
	for _, g := range groups {
		if !slices.Contains(cfg.Groups, g.name) {
			continue
		}
		if err := x.group(ctx, g.name, g.fn); err != nil {
			x.r.fail(g.name, err)
			logf("%s: %v", g.name, err)
		}
	}
	return x.r, nil
}

type run struct {
	cfg  Config
	dir  string
	bin  string
	r    *Report
	logf func(format string, args ...any)
}

// group starts a control plane, runs fn and stops the control plane.
func (x *run) group(ctx context.Context, name string, fn func(context.Context, *controlPlane, courierRunner) error) error {
	dir := filepath.Join(x.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	x.logf("%s: starting a control plane", name)
	cp, err := startControlPlane(dir)
	if err != nil {
		return err
	}
	defer func() {
		if err := cp.stop(); err != nil {
			x.logf("%s: stopping the control plane: %v", name, err)
		}
	}()
	runner := courierRunner{bin: x.bin, kubeconfig: cp.kubeconfig, logPath: filepath.Join(dir, "courier.log")}
	start := time.Now()
	err = fn(ctx, cp, runner)
	x.logf("%s: done in %s (courier log: %s)", name, time.Since(start).Round(time.Second), runner.logPath)
	if err != nil {
		return fmt.Errorf("%w; courier log tail:\n%s", err, runner.logTail(20))
	}
	return nil
}

// scaled returns a timeout proportional to n objects (at least min), generous
// enough for a loaded 2-CPU machine.
func scaled(n int, perObject time.Duration, min time.Duration) time.Duration {
	d := time.Duration(n) * perObject
	if d < min {
		return min
	}
	return d
}
