package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

const (
	fanoutLabel  = "bench.courier.dev/fanout"
	sourceNS     = "bench-source"
	fanoutCP     = "bench-fanout"
	baselineRole = "baseline"
)

// propagationResult is the JSON detail of scenarios 1, 2, 3, 5 and 7.
type propagationResult struct {
	Namespaces       int                `json:"namespaces"`
	BaselineCreate   latency            `json:"baseline_create"`
	BaselineUpdate   latency            `json:"baseline_update"`
	BaselineAccounts map[string]float64 `json:"baseline_unattributed_writes"`
	Fanout           latency            `json:"fanout"`
	FanoutWrites     map[string]float64 `json:"fanout_writes"`
	Update           latency            `json:"update"`
	UpdateWrites     map[string]float64 `json:"update_writes"`
	NewNamespaces    latency            `json:"new_namespaces"`
	NewNSWrites      map[string]float64 `json:"new_namespaces_writes"`
	SteadyS          float64            `json:"steady_state_s"`
	SteadyWrites     map[string]float64 `json:"steady_state_writes"`
	RestartIdleS     float64            `json:"restart_to_idle_s"`
	RestartWrites    map[string]float64 `json:"restart_writes"`
}

// propagation runs scenarios 1 (fan-out), 2 (update), 3 (new namespaces),
// 5 (writes, steady state) and 7 (restart) on one control plane.
func (x *run) propagation(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	cfg, r := x.cfg, x.r
	n, m, par := cfg.FanoutNamespaces, cfg.NewNamespaces, cfg.Parallelism
	res := &propagationResult{Namespaces: n}
	r.Scenarios["propagation"] = res
	v1, v2 := payload(cfg.SecretBytes, 1), payload(cfg.SecretBytes, 2)
	nsName := func(i int) string { return fmt.Sprintf("fanout-%04d", i) }
	wait := scaled(n, 300*time.Millisecond, 2*time.Minute)

	x.logf("propagation: creating %d labelled namespaces", n)
	if err := createAll(ctx, cp.c, n, 32, func(i int) client.Object {
		return namespace(nsName(i), map[string]string{fanoutLabel: "true"})
	}); err != nil {
		return err
	}
	if err := cp.c.Create(ctx, namespace(sourceNS, nil)); err != nil {
		return err
	}

	// Baseline: the same n creates and n updates, by a raw client with Courier's
	// parallelism, before Courier runs (so it competes with nothing).
	x.logf("propagation: baseline, %d creates and %d updates at parallelism %d", n, n, par)
	baseSel := client.MatchingLabels{benchLabel: baselineRole}
	copies := make([]*corev1.Secret, n)
	bw, err := cp.beginWrites(ctx)
	if err != nil {
		return err
	}
	res.BaselineCreate, err = timed(ctx, cp, secretDataIs(v1), baseSel, n, wait, func() error {
		return parallel(ctx, n, par, func(ctx context.Context, i int) error {
			copies[i] = secret(nsName(i), "baseline-copy", baselineRole, v1)
			return cp.c.Create(ctx, copies[i])
		})
	})
	if err != nil {
		return fmt.Errorf("baseline create: %w", err)
	}
	res.BaselineUpdate, err = timed(ctx, cp, secretDataIs(v2), baseSel, n, wait, func() error {
		return parallel(ctx, n, par, func(ctx context.Context, i int) error {
			copies[i].Data = v2
			return cp.c.Update(ctx, copies[i])
		})
	})
	if err != nil {
		return fmt.Errorf("baseline update: %w", err)
	}
	// Accounting check: with no Courier running, the API server's writes minus the
	// driver's must be zero, or write attribution below is wrong.
	unattributed, err := bw.end(ctx)
	if err != nil {
		return err
	}
	res.BaselineAccounts = unattributed.byKey()
	if len(unattributed) != 0 {
		x.logf("propagation: WARNING writes the driver did not make while Courier was not running: %s", unattributed)
	}

	x.logf("propagation: starting courier")
	p, err := runner.start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	idle := func() error {
		_, err := waitIdle(ctx, p, map[string]int{"clusterpropagation": 1}, 2*time.Minute)
		return err
	}

	// 1. Fan-out.
	x.logf("propagation: fan-out of one %d-byte Secret to %d namespaces", cfg.SecretBytes, n)
	if err := cp.c.Create(ctx, secret(sourceNS, "bench-src", "source", v1)); err != nil {
		return err
	}
	copySel := client.MatchingLabels{v1alpha1.LabelClusterPropagation: fanoutCP}
	ww, err := cp.beginWrites(ctx)
	if err != nil {
		return err
	}
	res.Fanout, err = timed(ctx, cp, secretDataIs(v1), copySel, n, wait, func() error {
		return cp.c.Create(ctx, fanoutPropagation(fanoutCP, sourceNS, "bench-src"))
	})
	if err != nil {
		return fmt.Errorf("fan-out: %w", err)
	}
	if err := idle(); err != nil {
		return err
	}
	fw, err := ww.end(ctx)
	if err != nil {
		return err
	}
	res.FanoutWrites = fw.byKey()
	x.copyRows("1. fan-out", "time to all copies", res.Fanout, res.BaselineCreate, "fan-out time", n, fw, "create")

	// 2. Update.
	x.logf("propagation: update of the source")
	if ww, err = cp.beginWrites(ctx); err != nil {
		return err
	}
	res.Update, err = timed(ctx, cp, secretDataIs(v2), copySel, n, wait, func() error {
		src := &corev1.Secret{}
		if err := cp.c.Get(ctx, client.ObjectKey{Namespace: sourceNS, Name: "bench-src"}, src); err != nil {
			return err
		}
		src.Data = v2
		return cp.c.Update(ctx, src)
	})
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := idle(); err != nil {
		return err
	}
	uw, err := ww.end(ctx)
	if err != nil {
		return err
	}
	res.UpdateWrites = uw.byKey()
	x.copyRows("2. update", "time to all copies updated", res.Update, res.BaselineUpdate, "update time", n, uw, "update")

	// 3. New namespaces.
	x.logf("propagation: %d new matching namespaces at once", m)
	tr, err := track(ctx, cp.c, &corev1.SecretList{}, secretDataIs(v2), copySel)
	if err != nil {
		return err
	}
	if ww, err = cp.beginWrites(ctx); err != nil {
		tr.stop()
		return err
	}
	t0 := time.Now()
	err = createAll(ctx, cp.c, m, par, func(i int) client.Object {
		return namespace(fmt.Sprintf("new-%04d", i), map[string]string{fanoutLabel: "true"})
	})
	if err == nil {
		err = tr.wait(ctx, n+m, wait)
	}
	res.NewNamespaces = summarize(tr.since(t0, func(k string) bool { return strings.HasPrefix(k, "new-") }))
	tr.stop()
	if err != nil {
		return fmt.Errorf("new namespaces: %w", err)
	}
	if err := idle(); err != nil {
		return err
	}
	nw, err := ww.end(ctx)
	if err != nil {
		return err
	}
	res.NewNSWrites = nw.byKey()
	r.row("3. new namespaces", fmt.Sprintf("time to a copy in each of %d new namespaces (total / p50 / p99)", m),
		fmt.Sprintf("%s / %s / %s", secs(res.NewNamespaces.TotalS), secs(res.NewNamespaces.P50S), secs(res.NewNamespaces.P99S)), "", "")
	r.row("3. new namespaces", "Courier writes", nw.String(), "", "")
	r.budget(exactBudget("3. new namespaces: copy writes", nw.total("secrets", "*"), float64(m), "one create per new copy expected"))

	// 5. Steady state.
	x.logf("propagation: watching writes for %s of steady state", cfg.SteadyState)
	if ww, err = cp.beginWrites(ctx); err != nil {
		return err
	}
	time.Sleep(cfg.SteadyState)
	sw, err := ww.end(ctx)
	if err != nil {
		return err
	}
	res.SteadyS, res.SteadyWrites = cfg.SteadyState.Seconds(), sw.byKey()
	r.row("5. steady state", fmt.Sprintf("Courier writes in %s after convergence", cfg.SteadyState), sw.String(), "", "")
	r.budget(exactBudget("5. steady state: writes", sw.total("", "*"), 0, "writes at steady state: "+sw.String()))

	// 7. Restart.
	x.logf("propagation: restarting courier with %d copies in sync", n+m)
	if err := p.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("stopping courier: %w", err)
	}
	if ww, err = cp.beginWrites(ctx); err != nil {
		return err
	}
	if p, err = runner.start(ctx); err != nil {
		return err
	}
	idleAt, err := waitIdle(ctx, p, map[string]int{"clusterpropagation": 1}, 2*time.Minute)
	if err != nil {
		return err
	}
	res.RestartIdleS = idleAt.Sub(p.StartedAt()).Seconds()
	time.Sleep(5 * time.Second) // late writes after idleness would still count
	rw, err := ww.end(ctx)
	if err != nil {
		return err
	}
	res.RestartWrites = rw.byKey()
	r.row("7. restart", fmt.Sprintf("process start to caches synced and idle, %d copies", n+m), secs(res.RestartIdleS), "", "")
	r.row("7. restart", "Courier writes (to idle + 5 s)", rw.String(), "", "")
	r.budget(exactBudget("7. restart: writes", rw.total("", "*"), 0, "writes after a restart with nothing to do: "+rw.String()))
	return verifyCopies(ctx, cp, copySel, v2, n+m)
}

// copyRows adds the rows and budgets of a timed copy scenario (fan-out, update).
func (x *run) copyRows(scenario, metric string, c, base latency, budgetName string, n int, w writeCounts, verb string) {
	r := x.r
	label, q := ratio(c.TotalS, base.TotalS)
	r.row(scenario, fmt.Sprintf("%s, %d namespaces (total)", metric, n), secs(c.TotalS), secs(base.TotalS), label)
	r.row(scenario, "per namespace p50 / p99", fmt.Sprintf("%s / %s", secs(c.P50S), secs(c.P99S)),
		fmt.Sprintf("%s / %s", secs(base.P50S), secs(base.P99S)), "")
	copyWrites := w.total("secrets", "*")
	r.row(scenario, "Courier writes (all resources)", w.String(), fmt.Sprintf("%d %ss", n, verb), "")
	r.row(scenario, "writes per copy", fmt.Sprintf("%.2f", copyWrites/float64(n)), "1", "")
	r.budget(timeBudget(scenario+": "+budgetName, q, x.cfg.CheckTimes))
	r.budget(exactBudget(scenario+": writes to copies", copyWrites, float64(n),
		fmt.Sprintf("exactly one %s per copy expected; Secret writes: %s", verb, secretWrites(w))))
}

// secretWrites lists the Secret writes of w.
func secretWrites(w writeCounts) writeCounts {
	out := writeCounts{}
	for k, v := range w {
		if k.Resource == "secrets" {
			out[k] = v
		}
	}
	return out
}

// timed starts a tracker for objects matching sel and match, runs trigger and
// returns the arrival latencies of n objects after the trigger started.
func timed(ctx context.Context, cp *controlPlane, match func(client.Object) bool, sel client.MatchingLabels, n int,
	timeout time.Duration, trigger func() error) (latency, error) {
	tr, err := track(ctx, cp.c, &corev1.SecretList{}, match, sel)
	if err != nil {
		return latency{}, err
	}
	defer tr.stop()
	t0 := time.Now()
	if err := trigger(); err != nil {
		return latency{}, err
	}
	if err := tr.wait(ctx, n, timeout); err != nil {
		return latency{}, err
	}
	return summarize(tr.since(t0, nil)), nil
}

// verifyCopies checks that every copy is there with the expected bytes.
func verifyCopies(ctx context.Context, cp *controlPlane, sel client.MatchingLabels, want map[string][]byte, n int) error {
	var list corev1.SecretList
	if err := cp.c.List(ctx, &list, sel); err != nil {
		return err
	}
	ok := 0
	for i := range list.Items {
		if secretDataIs(want)(&list.Items[i]) {
			ok++
		}
	}
	if ok != n {
		return fmt.Errorf("%d of %d copies carry the expected bytes at the end", ok, n)
	}
	return nil
}

func fanoutPropagation(name, ns, src string) *v1alpha1.ClusterPropagation {
	return &v1alpha1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: ns, Name: src}},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{fanoutLabel: "true"},
			}},
		},
	}
}
