package bench

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	// The *Rounds fields are the total times of every round; the latency fields
	// are the median round's.
	BaselineCreateRounds []float64          `json:"baseline_create_rounds_s"`
	BaselineUpdateRounds []float64          `json:"baseline_update_rounds_s"`
	FanoutRounds         []float64          `json:"fanout_rounds_s"`
	UpdateRounds         []float64          `json:"update_rounds_s"`
	Fanout               latency            `json:"fanout"`
	FanoutWrites         map[string]float64 `json:"fanout_writes"`
	Update               latency            `json:"update"`
	UpdateWrites         map[string]float64 `json:"update_writes"`
	NewNamespaces        latency            `json:"new_namespaces"`
	NewNSWrites          map[string]float64 `json:"new_namespaces_writes"`
	SteadyS              float64            `json:"steady_state_s"`
	SteadyWrites         map[string]float64 `json:"steady_state_writes"`
	RestartIdleS         float64            `json:"restart_to_idle_s"`
	RestartWrites        map[string]float64 `json:"restart_writes"`
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
	var baseCreates, baseUpdates []latency
	for r := range cfg.Rounds {
		if r > 0 {
			if err := deleteCopies(ctx, cp, baseSel, wait); err != nil {
				return fmt.Errorf("baseline reset: %w", err)
			}
		}
		create, err := timed(ctx, cp, secretDataIs(v1), baseSel, n, wait, func() error {
			return parallel(ctx, n, par, func(ctx context.Context, i int) error {
				copies[i] = secret(nsName(i), "baseline-copy", baselineRole, v1)
				return cp.c.Create(ctx, copies[i])
			})
		})
		if err != nil {
			return fmt.Errorf("baseline create: %w", err)
		}
		update, err := timed(ctx, cp, secretDataIs(v2), baseSel, n, wait, func() error {
			return parallel(ctx, n, par, func(ctx context.Context, i int) error {
				copies[i].Data = v2
				return cp.c.Update(ctx, copies[i])
			})
		})
		if err != nil {
			return fmt.Errorf("baseline update: %w", err)
		}
		baseCreates, baseUpdates = append(baseCreates, create), append(baseUpdates, update)
	}
	res.BaselineCreate, res.BaselineUpdate = median(baseCreates), median(baseUpdates)
	res.BaselineCreateRounds, res.BaselineUpdateRounds = totals(baseCreates), totals(baseUpdates)
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

	// 1. Fan-out and 2. update, Rounds times: between rounds the ClusterPropagation
	// is deleted (Courier deletes its copies) and the source reset.
	copySel := client.MatchingLabels{v1alpha1.LabelClusterPropagation: fanoutCP}
	src := secret(sourceNS, "bench-src", "source", v1)
	if err := cp.c.Create(ctx, src); err != nil {
		return err
	}
	var fanouts, updates []copyRound
	for r := range cfg.Rounds {
		if r > 0 {
			x.logf("propagation: round %d: deleting the ClusterPropagation and its copies", r+1)
			if err := resetFanout(ctx, cp, copySel, wait); err != nil {
				return err
			}
			src.Data = v1
			if err := cp.c.Update(ctx, src); err != nil {
				return err
			}
		}
		x.logf("propagation: fan-out of one %d-byte Secret to %d namespaces (round %d of %d)", cfg.SecretBytes, n, r+1, cfg.Rounds)
		fanout, err := x.copyRound(ctx, cp, idle, secretDataIs(v1), copySel, n, wait, func() error {
			return cp.c.Create(ctx, fanoutPropagation(fanoutCP, sourceNS, "bench-src"))
		})
		if err != nil {
			return fmt.Errorf("fan-out: %w", err)
		}
		x.logf("propagation: update of the source (round %d of %d)", r+1, cfg.Rounds)
		update, err := x.copyRound(ctx, cp, idle, secretDataIs(v2), copySel, n, wait, func() error {
			src.Data = v2
			return cp.c.Update(ctx, src)
		})
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		fanouts, updates = append(fanouts, fanout), append(updates, update)
	}
	fanout, update := medianRound(fanouts), medianRound(updates)
	res.Fanout, res.FanoutWrites, res.FanoutRounds = fanout.lat, fanout.writes.byKey(), roundTotals(fanouts)
	res.Update, res.UpdateWrites, res.UpdateRounds = update.lat, update.writes.byKey(), roundTotals(updates)
	x.copyRows("1. fan-out", "time to all copies", fanout, fanouts, res.BaselineCreate, "fan-out time", n, "create")
	x.copyRows("2. update", "time to all copies updated", update, updates, res.BaselineUpdate, "update time", n, "update")

	// 3. New namespaces.
	x.logf("propagation: %d new matching namespaces at once", m)
	tr, err := track(ctx, cp.c, &corev1.SecretList{}, secretDataIs(v2), copySel)
	if err != nil {
		return err
	}
	ww, err := cp.beginWrites(ctx)
	if err != nil {
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

// copyRows adds the rows and budgets of a timed copy scenario (fan-out, update):
// times from the median round c, write counts checked in every round.
func (x *run) copyRows(scenario, metric string, c copyRound, rounds []copyRound, base latency, budgetName string, n int, verb string) {
	r := x.r
	label, q := ratio(c.lat.TotalS, base.TotalS)
	what := fmt.Sprintf("%s, %d namespaces (total)", metric, n)
	if len(rounds) > 1 {
		what = fmt.Sprintf("%s, %d namespaces (total, median of %d rounds: %s)", metric, n, len(rounds), roundList(rounds))
	}
	r.row(scenario, what, secs(c.lat.TotalS), secs(base.TotalS), label)
	r.row(scenario, "per namespace first / p50 / p99", fmt.Sprintf("%s / %s / %s", secs(c.lat.FirstS), secs(c.lat.P50S), secs(c.lat.P99S)),
		fmt.Sprintf("%s / %s / %s", secs(base.FirstS), secs(base.P50S), secs(base.P99S)), "")
	r.row(scenario, "Courier writes (all resources)", c.writes.String(), fmt.Sprintf("%d %ss", n, verb), "")
	r.row(scenario, "writes per copy", fmt.Sprintf("%.2f", c.writes.total("secrets", "*")/float64(n)), "1", "")
	r.budget(timeBudget(scenario+": "+budgetName, q, x.cfg.CheckTimes))
	// Every round must write each copy exactly once: report the worst.
	worst := c.writes
	for _, rd := range rounds {
		if math.Abs(rd.writes.total("secrets", "*")-float64(n)) > math.Abs(worst.total("secrets", "*")-float64(n)) {
			worst = rd.writes
		}
	}
	r.budget(exactBudget(scenario+": writes to copies", worst.total("secrets", "*"), float64(n),
		fmt.Sprintf("exactly one %s per copy expected in every round; Secret writes: %s", verb, secretWrites(worst))))
}

// roundList prints the total times of rounds.
func roundList(rounds []copyRound) string {
	parts := make([]string, len(rounds))
	for i, rd := range rounds {
		parts[i] = secs(rd.lat.TotalS)
	}
	return strings.Join(parts, ", ")
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

// copyRound is one timed copy scenario: its latencies and Courier's writes.
type copyRound struct {
	lat    latency
	writes writeCounts
}

// copyRound times trigger until n copies match, waits for Courier to be idle, and
// returns the latencies and the writes Courier made meanwhile.
func (x *run) copyRound(ctx context.Context, cp *controlPlane, idle func() error, match func(client.Object) bool,
	sel client.MatchingLabels, n int, wait time.Duration, trigger func() error) (copyRound, error) {
	ww, err := cp.beginWrites(ctx)
	if err != nil {
		return copyRound{}, err
	}
	lat, err := timed(ctx, cp, match, sel, n, wait, trigger)
	if err != nil {
		return copyRound{}, err
	}
	if err := idle(); err != nil {
		return copyRound{}, err
	}
	w, err := ww.end(ctx)
	return copyRound{lat: lat, writes: w}, err
}

// resetFanout deletes the fan-out's ClusterPropagation and waits until Courier has
// deleted its copies and released it.
func resetFanout(ctx context.Context, cp *controlPlane, copySel client.MatchingLabels, wait time.Duration) error {
	cpObj := &v1alpha1.ClusterPropagation{}
	cpObj.Name = fanoutCP
	if err := cp.c.Delete(ctx, cpObj); err != nil {
		return err
	}
	return waitFor(ctx, wait, func() (bool, error) {
		err := cp.c.Get(ctx, client.ObjectKey{Name: fanoutCP}, &v1alpha1.ClusterPropagation{})
		if !apierrors.IsNotFound(err) {
			return false, client.IgnoreNotFound(err)
		}
		var list corev1.SecretList
		if err := cp.c.List(ctx, &list, copySel); err != nil {
			return false, err
		}
		return len(list.Items) == 0, nil
	})
}

// deleteCopies deletes the Secrets sel matches and waits until they are gone.
func deleteCopies(ctx context.Context, cp *controlPlane, sel client.MatchingLabels, wait time.Duration) error {
	var list corev1.SecretList
	if err := cp.c.List(ctx, &list, sel); err != nil {
		return err
	}
	if err := parallel(ctx, len(list.Items), 16, func(ctx context.Context, i int) error {
		return client.IgnoreNotFound(cp.c.Delete(ctx, &list.Items[i]))
	}); err != nil {
		return err
	}
	return waitFor(ctx, wait, func() (bool, error) {
		var left corev1.SecretList
		err := cp.c.List(ctx, &left, sel)
		return err == nil && len(left.Items) == 0, err
	})
}

// waitFor polls done every 100 ms until it reports true, fails, or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// median returns the latency of the round with the median total time.
func median(ls []latency) latency {
	s := append([]latency(nil), ls...)
	sort.Slice(s, func(i, j int) bool { return s[i].TotalS < s[j].TotalS })
	return s[len(s)/2]
}

// medianRound returns the round with the median total time.
func medianRound(rs []copyRound) copyRound {
	s := append([]copyRound(nil), rs...)
	sort.Slice(s, func(i, j int) bool { return s[i].lat.TotalS < s[j].lat.TotalS })
	return s[len(s)/2]
}

func totals(ls []latency) []float64 {
	out := make([]float64, len(ls))
	for i, l := range ls {
		out[i] = l.TotalS
	}
	return out
}

func roundTotals(rs []copyRound) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.lat.TotalS
	}
	return out
}
