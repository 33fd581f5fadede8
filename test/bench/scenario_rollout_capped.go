package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	cappedNS = "bench-rollout-capped"
	// standInRolloutTime is how long each Deployment's rollout takes in the capped run
	// (the stand-in's pods becoming ready).
	standInRolloutTime = 2 * time.Second
)

// cappedResult is the JSON detail of scenario 6b.
type cappedResult struct {
	Deployments       int           `json:"deployments"`
	Cap               int           `json:"cap"`
	RolloutTimeS      float64       `json:"each_rollout_s"`
	TotalS            float64       `json:"change_to_last_rollout_done_s"`
	PeakRolling       int           `json:"peak_rolling_at_once"`
	RolloutsPerDeploy map[int64]int `json:"template_changes_histogram"`
}

// rollouts runs scenarios 6 and 6b on one control plane, one Courier at a time.
func (x *run) rollouts(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	if err := x.rollout(ctx, cp, runner); err != nil {
		return err
	}
	return x.rolloutCapped(ctx, cp, runner)
}

// rolloutCapped runs scenario 6b: the Deployments of scenario 6, Courier started
// with --rollout-max-concurrent at a tenth of them, one ConfigMap change. Every
// Deployment must roll exactly once, and never more than the cap at once, counted
// from a watch.
func (x *run) rolloutCapped(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	n := x.cfg.RolloutDeployments
	limit := max(n/10, 1)
	res := &cappedResult{Deployments: n, Cap: limit, RolloutTimeS: standInRolloutTime.Seconds()}
	x.r.Scenarios["rollout_capped"] = res
	sel := client.MatchingLabels{benchLabel: "workload"}

	x.logf("rollout, capped: %d opted-in Deployments sharing one ConfigMap, at most %d rolling at once", n, limit)
	cm, err := rolloutWorkloads(ctx, cp, cappedNS, n)
	if err != nil {
		return err
	}
	// The cap is cluster-wide, and nobody finished scenario 6's rollouts (envtest runs
	// no kube-controller-manager): they would hold every slot for ten minutes. The
	// stand-in finishes them first, as the Deployment controller would have.
	earlier, err := standInDeployments(ctx, cp, rolloutNS, 0, sel)
	if err != nil {
		return err
	}
	defer earlier.stop()
	kcm, err := standInDeployments(ctx, cp, cappedNS, standInRolloutTime, sel)
	if err != nil {
		return err
	}
	defer kcm.stop()

	// The cap is the feature under test, not tuning: this run differs from the
	// production defaults by that flag only.
	capped := runner
	capped.args = append(slices.Clone(runner.args), fmt.Sprintf("--rollout-max-concurrent=%d", limit))
	p, err := capped.start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	if err := waitBaselines(ctx, cp, cappedNS, n); err != nil {
		return fmt.Errorf("capped rollout baseline: %w", err)
	}
	if _, err := waitIdle(ctx, p, nil, 2*time.Minute); err != nil {
		return err
	}

	x.logf("rollout, capped: changing the ConfigMap")
	t0 := time.Now()
	cm.Data["setting"] = "v2"
	if err := cp.c.Update(ctx, cm); err != nil {
		return err
	}
	waves := (n + limit - 1) / limit
	done, err := kcm.waitRolled(ctx, n, time.Duration(waves)*(standInRolloutTime+10*time.Second)+time.Minute)
	res.TotalS = done.Sub(t0).Seconds()
	if err != nil {
		x.logf("rollout, capped: %v", err)
	}
	// Let a second, wrong rollout happen if it is going to.
	if _, err := waitIdle(ctx, p, nil, 2*time.Minute); err != nil {
		return err
	}
	time.Sleep(2*rolloutWindow + time.Second)
	changes, peak := kcm.counts()
	res.PeakRolling, res.RolloutsPerDeploy = peak, histogram(changes)

	x.r.row("6b. rollout, capped", fmt.Sprintf("%d Deployments, cap %d, each rollout %s: change to the last rollout done (incl. the %s window)",
		n, limit, standInRolloutTime, rolloutWindow), secs(res.TotalS), "", "")
	x.r.row("6b. rollout, capped", "most Deployments rolling at once (from a watch)", fmt.Sprint(peak), "", "")
	x.r.row("6b. rollout, capped", "template changes per Deployment (count: Deployments)", fmt.Sprint(res.RolloutsPerDeploy), "", "")
	x.r.budget(exactBudget("6b. rollout, capped: Deployments rolled exactly once", float64(countEqual(changes, 1)), float64(n),
		fmt.Sprintf("template changes per Deployment: %v", res.RolloutsPerDeploy)))
	x.r.budget(Budget{Name: "6b. rollout, capped: rolling at once", Limit: fmt.Sprintf("≤ %d", limit), Measured: fmt.Sprint(peak),
		Checked: true, OK: peak > 0 && peak <= limit, Why: "the cap was exceeded (or nothing rolled)"})
	return nil
}

// deploymentStandIn plays kube-controller-manager's Deployment controller, which
// envtest does not run: it keeps status.observedGeneration current, and a
// Deployment whose pod template changed finishes its rollout (its one replica
// updated and available) rolloutTime later.
//
// From the same watch it counts the Deployments rolling at once: from the event
// that shows a template change to the one that shows the status done. A watch
// delivers events in the API server's order, and Courier admits the next rollout
// only after it saw a status done, so the count is exact, never early or late.
type deploymentStandIn struct {
	c           client.Client
	ns          string
	rolloutTime time.Duration
	tr          *tracker

	mu      sync.Mutex
	hash    map[string]string    // last template hash seen per Deployment
	changes map[string]int64     // template changes per Deployment
	doneAt  map[string]time.Time // when a rolling Deployment's rollout finishes
	pending map[string]bool      // a status write is under way
	rolling map[string]bool
	peak    int
	lastEnd time.Time // when the last rollout was seen done
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// standInDeployments starts the stand-in for the Deployments of namespace ns.
func standInDeployments(ctx context.Context, cp *controlPlane, ns string, rolloutTime time.Duration, opts ...client.ListOption) (*deploymentStandIn, error) {
	s := &deploymentStandIn{c: cp.c, ns: ns, rolloutTime: rolloutTime,
		hash: map[string]string{}, changes: map[string]int64{}, doneAt: map[string]time.Time{},
		pending: map[string]bool{}, rolling: map[string]bool{}}
	s.ctx, s.cancel = context.WithCancel(ctx)
	tr, err := track(s.ctx, cp.c, &appsv1.DeploymentList{}, s.observe, append(opts, client.InNamespace(ns))...)
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.tr = tr
	return s, nil
}

// observe sees every listed and watched Deployment, in order; it never reports a
// match (the tracker is used as the observer).
func (s *deploymentStandIn) observe(o client.Object) bool {
	d, ok := o.(*appsv1.Deployment)
	if !ok {
		return false
	}
	h := templateHash(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, seen := s.hash[d.Name]
	s.hash[d.Name] = h
	if !seen {
		s.changes[d.Name] = 0
	}
	switch {
	case seen && prev != h:
		s.changes[d.Name]++
		s.rolling[d.Name] = true
		s.doneAt[d.Name] = time.Now().Add(s.rolloutTime)
		s.peak = max(s.peak, len(s.rolling))
	case s.rolling[d.Name] && rolloutDone(d):
		delete(s.rolling, d.Name)
		delete(s.doneAt, d.Name)
		s.lastEnd = time.Now()
	}
	if !rolloutDone(d) && !s.pending[d.Name] {
		s.pending[d.Name] = true
		s.wg.Add(1)
		go s.finish(d.Name)
	}
	return false
}

// rolloutDone is what the rollout cap reads as a finished Deployment rollout.
func rolloutDone(d *appsv1.Deployment) bool {
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.Replicas == 1 && s.UpdatedReplicas == 1 && s.AvailableReplicas == 1
}

// finish writes Deployment name's status as its controller would once its rollout
// (if one is under way) has taken rolloutTime.
func (s *deploymentStandIn) finish(name string) {
	defer s.wg.Done()
	for s.ctx.Err() == nil {
		s.mu.Lock()
		wait := time.Until(s.doneAt[name])
		s.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
			continue
		}
		var d appsv1.Deployment
		if err := s.c.Get(s.ctx, client.ObjectKey{Namespace: s.ns, Name: name}, &d); err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		behind := templateHash(&d) != s.hash[name] // the watch has not shown this template yet
		s.mu.Unlock()
		if behind {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		d.Status.ObservedGeneration = d.Generation
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1, 1, 1
		switch err := s.c.Status().Update(s.ctx, &d); {
		case err == nil:
			s.mu.Lock()
			delete(s.pending, name)
			s.mu.Unlock()
			return
		case apierrors.IsConflict(err):
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// waitRolled waits until n Deployments rolled and none is rolling, and returns when
// the last rollout was seen done.
func (s *deploymentStandIn) waitRolled(ctx context.Context, n int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		rolled := 0
		for _, c := range s.changes {
			if c > 0 {
				rolled++
			}
		}
		rolling, last := len(s.rolling), s.lastEnd
		s.mu.Unlock()
		if rolled >= n && rolling == 0 {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Now(), fmt.Errorf("%d of %d Deployments rolled, %d rolling, after %s", rolled, n, rolling, timeout)
		}
		select {
		case <-ctx.Done():
			return time.Now(), ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// counts returns the template changes per Deployment and the most rolling at once.
func (s *deploymentStandIn) counts() (map[string]int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.changes), s.peak
}

func (s *deploymentStandIn) stop() {
	s.tr.stop()
	s.cancel()
	s.wg.Wait()
}
