package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/test/managerproc"
)

const (
	rolloutNS = "bench-rollout"
	// appliedHashAnnotation is where the rollout controller records the hash it last
	// applied (or the baseline); its presence means the workload was seen.
	appliedHashAnnotation = "courier.dev/applied-config-hash"
	// rolloutWindow is Courier's default --rollout-coalesce-window; waits after a
	// change allow for it.
	rolloutWindow = 5 * time.Second
)

// rolloutResult is the JSON detail of scenario 6.
type rolloutResult struct {
	Deployments       int                `json:"deployments"`
	BaselineS         float64            `json:"time_to_baseline_recorded_s"`
	BaselineWrites    map[string]float64 `json:"baseline_writes"`
	Rollout           latency            `json:"rollout"`
	RolloutsPerDeploy map[int64]int      `json:"template_changes_histogram"`
	ChangeWrites      map[string]float64 `json:"change_writes"`
	RestartRollouts   map[int64]int      `json:"restart_template_changes_histogram"`
	RestartWrites     map[string]float64 `json:"restart_writes"`
	// Example is one Deployment as it was after a wrong template change: its pod
	// template annotations and field managers, to show who changed what.
	Example string `json:"example_after_unexpected_change,omitempty"`
}

// settledWrites waits until Courier (p) is idle and then quiet longer, time for
// the rollouts a coalescing window delays (a second, wrong one too), and ends the
// write window ww: Courier's writes in the phase ww opened.
func settledWrites(ctx context.Context, p *managerproc.Process, ww *writeWindow, quiet time.Duration) (writeCounts, error) {
	if _, err := waitIdle(ctx, p, nil, 2*time.Minute); err != nil {
		return nil, err
	}
	time.Sleep(quiet)
	return ww.end(ctx)
}

// rollout runs scenario 6: opted-in Deployments sharing one ConfigMap roll exactly
// once when it changes and not at all when Courier restarts.
func (x *run) rollout(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	cfg, r := x.cfg, x.r
	n := cfg.RolloutDeployments
	res := &rolloutResult{Deployments: n}
	r.Scenarios["rollout"] = res
	sel := client.MatchingLabels{benchLabel: "workload"}
	inNS := client.InNamespace(rolloutNS)
	wait := scaled(n, 200*time.Millisecond, 90*time.Second)

	x.logf("rollout: %d opted-in Deployments sharing one ConfigMap", n)
	cm, err := rolloutWorkloads(ctx, cp, rolloutNS, n)
	if err != nil {
		return err
	}

	// Courier starts on existing workloads: it records a baseline (metadata only)
	// and must not roll anything.
	ww, err := cp.beginWrites(ctx)
	if err != nil {
		return err
	}
	// Template changes are counted from a watch on the pod templates themselves:
	// metadata.generation cannot be used, because a Deployment's generation also moves
	// when its metadata annotations change (they are copied to its ReplicaSets), and
	// the rollout controller keeps its state in metadata annotations.
	tc, err := countTemplates(ctx, cp, sel, inNS)
	if err != nil {
		return err
	}
	defer tc.stop()
	p, err := runner.start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	if err := waitBaselines(ctx, cp, rolloutNS, n); err != nil {
		r.budget(Budget{Name: "6. rollout: once per change", Limit: "= 1 per Deployment", Measured: "no baseline recorded",
			Checked: true, Why: "the rollout controller never recorded a baseline on the Deployments (is it registered in controllers/setup.go?)"})
		return fmt.Errorf("rollout baseline: %w", err)
	}
	res.BaselineS = time.Since(p.StartedAt()).Seconds()
	bw, err := settledWrites(ctx, p, ww, rolloutWindow+time.Second)
	if err != nil {
		return err
	}
	res.BaselineWrites = bw.byKey()
	afterStart := tc.snapshot()
	startRolls := afterStart
	if countNonZero(startRolls) > 0 && res.Example == "" {
		res.Example = describeDeployment(ctx, cp, startRolls)
		x.logf("rollout: template changed on first start: %s", res.Example)
	}
	r.row("6. rollout", fmt.Sprintf("first start on %d Deployments: writes (baseline recording)", n), bw.String(), "", "")
	r.budget(exactBudget("6. rollout: template changes on first start", float64(countNonZero(startRolls)), 0,
		"opting in must not roll"))

	// The change.
	x.logf("rollout: changing the ConfigMap")
	if ww, err = cp.beginWrites(ctx); err != nil {
		return err
	}
	templates0 := tc.templates()
	rolled := func(o client.Object) bool {
		d, ok := o.(*appsv1.Deployment)
		return ok && templateHash(d) != templates0[d.Name]
	}
	tr, err := track(ctx, cp.c, &appsv1.DeploymentList{}, rolled, sel, inNS)
	if err != nil {
		return err
	}
	t0 := time.Now()
	cm.Data["setting"] = "v2"
	if err := cp.c.Update(ctx, cm); err != nil {
		tr.stop()
		return err
	}
	err = tr.wait(ctx, n, wait+rolloutWindow)
	res.Rollout = summarize(tr.since(t0, nil))
	tr.stop()
	if err != nil {
		x.logf("rollout: %v", err)
	}
	// Let a second, wrong rollout happen if it is going to.
	cw, err := settledWrites(ctx, p, ww, 2*rolloutWindow+time.Second)
	if err != nil {
		return err
	}
	res.ChangeWrites = cw.byKey()
	afterChange := tc.snapshot()
	d := deltas(afterStart, afterChange)
	if countEqual(d, 1) != n && res.Example == "" {
		res.Example = describeDeployment(ctx, cp, d)
		x.logf("rollout: unexpected template changes after the change: %s", res.Example)
	}
	res.RolloutsPerDeploy = histogram(d)
	r.row("6. rollout", fmt.Sprintf("ConfigMap change to every pod template changed (total / p50 / p99, incl. the %s window)", rolloutWindow),
		fmt.Sprintf("%s / %s / %s", secs(res.Rollout.TotalS), secs(res.Rollout.P50S), secs(res.Rollout.P99S)), "", "")
	r.row("6. rollout", "template changes per Deployment (count: Deployments)", fmt.Sprint(res.RolloutsPerDeploy), "", "")
	r.row("6. rollout", "Courier writes for the change", cw.String(),
		"", "")
	r.row("6. rollout", "Deployment writes per Deployment", fmt.Sprintf("%.2f", cw.total("deployments", "*")/float64(n)), "", "")
	r.budget(exactBudget("6. rollout: Deployments rolled exactly once", float64(countEqual(d, 1)), float64(n),
		fmt.Sprintf("template changes per Deployment: %v", res.RolloutsPerDeploy)))

	// Restart with nothing changed.
	x.logf("rollout: restarting courier")
	if err := p.Stop(30 * time.Second); err != nil {
		return err
	}
	if ww, err = cp.beginWrites(ctx); err != nil {
		return err
	}
	if p, err = runner.start(ctx); err != nil {
		return err
	}
	rw, err := settledWrites(ctx, p, ww, 2*rolloutWindow+time.Second)
	if err != nil {
		return err
	}
	res.RestartWrites = rw.byKey()
	rd := deltas(afterChange, tc.snapshot())
	res.RestartRollouts = histogram(rd)
	r.row("6. rollout", "restart: template changes / Courier writes", fmt.Sprintf("%d / %s", countNonZero(rd), rw.String()), "", "")
	r.budget(exactBudget("6. rollout: template changes on restart", float64(countNonZero(rd)), 0, "a restart must not roll"))
	r.budget(exactBudget("6. rollout: writes on restart", rw.total("", "*"), 0, "writes after a restart: "+rw.String()))
	return nil
}

func hasAnnotation(name string) func(client.Object) bool {
	return func(o client.Object) bool { _, ok := o.GetAnnotations()[name]; return ok }
}

func deltas(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// histogram counts Deployments by number of template changes.
func histogram(d map[string]int64) map[int64]int {
	h := map[int64]int{}
	for _, v := range d {
		h[v]++
	}
	return h
}

func countEqual(d map[string]int64, want int64) int {
	n := 0
	for _, v := range d {
		if v == want {
			n++
		}
	}
	return n
}

func countNonZero(d map[string]int64) int { return len(d) - countEqual(d, 0) }

// describeDeployment renders one Deployment whose template changed: its generation,
// pod-template annotations and the field managers with the fields they own under
// spec.template.
func describeDeployment(ctx context.Context, cp *controlPlane, d map[string]int64) string {
	for name, delta := range d {
		if delta == 0 {
			continue
		}
		var dep appsv1.Deployment
		if err := cp.c.Get(ctx, client.ObjectKey{Namespace: rolloutNS, Name: name}, &dep); err != nil {
			return err.Error()
		}
		s := fmt.Sprintf("%s: generation %d (+%d), template annotations %v; managers:", name, dep.Generation, delta,
			dep.Spec.Template.Annotations)
		for _, mf := range dep.ManagedFields {
			fields := ""
			if mf.FieldsV1 != nil {
				fields = string(mf.FieldsV1.Raw)
			}
			s += fmt.Sprintf(" [%s %s %s]", mf.Manager, mf.Operation, fields)
		}
		return s
	}
	return ""
}

// templateCounter counts, per Deployment, how often its pod template changed, from
// a list and a continuous watch (every update is one watch event, so no change is
// missed while the watch runs).
type templateCounter struct {
	mu      sync.Mutex
	last    map[string]string
	changes map[string]int64
	tr      *tracker
}

func countTemplates(ctx context.Context, cp *controlPlane, opts ...client.ListOption) (*templateCounter, error) {
	tc := &templateCounter{last: map[string]string{}, changes: map[string]int64{}}
	// The tracker's match function sees every listed and watched object; it is used
	// here as the observer and never reports a match.
	tr, err := track(ctx, cp.c, &appsv1.DeploymentList{}, func(o client.Object) bool {
		d, ok := o.(*appsv1.Deployment)
		if !ok {
			return false
		}
		h := templateHash(d)
		tc.mu.Lock()
		defer tc.mu.Unlock()
		prev, seen := tc.last[d.Name]
		if !seen {
			tc.changes[d.Name] = 0
		} else if prev != h {
			tc.changes[d.Name]++
		}
		tc.last[d.Name] = h
		return false
	}, opts...)
	if err != nil {
		return nil, err
	}
	tc.tr = tr
	return tc, nil
}

func (tc *templateCounter) stop() { tc.tr.stop() }

// snapshot returns the number of template changes per Deployment so far.
func (tc *templateCounter) snapshot() map[string]int64 {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return maps.Clone(tc.changes)
}

// templates returns the current template hash per Deployment.
func (tc *templateCounter) templates() map[string]string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return maps.Clone(tc.last)
}

// templateHash identifies a pod template's content.
func templateHash(d *appsv1.Deployment) string {
	b, _ := json.Marshal(d.Spec.Template)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// rolloutWorkloads creates namespace ns with n opted-in Deployments sharing one
// ConfigMap, and returns the ConfigMap.
func rolloutWorkloads(ctx context.Context, cp *controlPlane, ns string, n int) (*corev1.ConfigMap, error) {
	if err := cp.c.Create(ctx, namespace(ns, nil)); err != nil {
		return nil, err
	}
	cm := configMap(ns, "shared-config", "input", map[string]string{"setting": "v1"})
	if err := cp.c.Create(ctx, cm); err != nil {
		return nil, err
	}
	return cm, createAll(ctx, cp.c, n, 32, func(i int) client.Object {
		return optedInDeployment(ns, fmt.Sprintf("app-%04d", i), cm.Name, "")
	})
}

// waitBaselines waits until Courier has recorded a baseline on all n Deployments of
// namespace ns.
func waitBaselines(ctx context.Context, cp *controlPlane, ns string, n int) error {
	tr, err := track(ctx, cp.c, &appsv1.DeploymentList{}, hasAnnotation(appliedHashAnnotation),
		client.MatchingLabels{benchLabel: "workload"}, client.InNamespace(ns))
	if err != nil {
		return err
	}
	defer tr.stop()
	return tr.wait(ctx, n, scaled(n, 200*time.Millisecond, 90*time.Second))
}
