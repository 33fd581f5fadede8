package rollout

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A cap on the workloads rolling at once (Options.MaxConcurrentRollouts). A
// workload counts from its rollout until its kind's status says the rollout is
// done (finished), or for Options.ProgressDeadline at most, so a workload that
// never becomes ready does not hold its slot forever. Workloads whose change is
// due and that found no free slot wait their turn in the order their changes were
// first seen.
//
// What counts as rolling is read from the workloads themselves (their last-rollout
// annotation and their status, in the manager's cache), not from memory: a restart
// in the middle of a wave, or a new leader, counts the same workloads. The rollouts
// this process made in the last few seconds count too, whatever the cache shows
// yet: until the cache shows them (their last-rollout annotation), or for
// recentFor at most. The queue is in memory: after a restart it fills again as the waiting
// workloads look again (every queueRetry). Decisions are taken one at a time
// (capGate.mu), so two reconciles never take the last slot together.

// capGate admits rollouts under the cap.
type capGate struct {
	mu sync.Mutex
	// scans list, per capped kind, the UIDs of its cached workloads that are rolling.
	// Kinds picked up at run time add theirs (addScan).
	scans []scan
	// recent are this process's rollouts the cache may not show yet.
	recent map[types.UID]time.Time
	// queue holds the workloads waiting for a slot: when their change was first
	// seen, and when they last asked.
	queue map[types.UID]queued
}

// scan reports, for each of one kind's cached workloads that Courier rolled, when
// and whether it is rolling at now.
type scan func(ctx context.Context, now time.Time) (map[types.UID]scanned, error)

// scanned is what the cache shows of one workload Courier rolled.
type scanned struct {
	last    time.Time // its last rollout
	rolling bool
}

// addScan makes the gate count the rolling workloads s lists.
func (g *capGate) addScan(s scan) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.scans = append(g.scans, s)
}

type queued struct {
	since, asked time.Time
	key          string // kind/namespace/name, to break ties
}

const (
	// recentFor is how long at most a rollout this process made counts while the
	// cache does not show it.
	recentFor = 10 * time.Second
	// queueRetry is how often a workload waiting for a slot looks again.
	queueRetry = 2 * time.Second
	// queueForget drops a waiting workload that stopped asking (rolled, deleted,
	// opted out, or held for another reason).
	queueForget = 5 * queueRetry
)

// capScan returns the scan of kind k for the gate, of its opted-in workloads read
// from c (the kind's cache): a workload is rolling if Courier rolled it less than
// deadline ago and it has not finished.
func capScan[T client.Object](k workloadKind[T], c client.Reader, deadline time.Duration) scan {
	return func(ctx context.Context, now time.Time) (map[types.UID]scanned, error) {
		list := k.NewList()
		if err := c.List(ctx, list, client.MatchingLabels{LabelOptIn: "true"}); err != nil {
			return nil, fmt.Errorf("listing %s for the rollout cap: %w", k.name, err)
		}
		out := map[types.UID]scanned{}
		for _, w := range k.Items(list) {
			if last := lastRollout(w.GetAnnotations()); !last.IsZero() {
				out[w.GetUID()] = scanned{last: last, rolling: now.Sub(last) < deadline && !k.finished(w)}
			}
		}
		return out, nil
	}
}

// admission is the gate's answer to a workload whose change is due.
type admission struct {
	// rolled: the workload had a slot and roll ran.
	rolled bool
	// place in the queue (1: next) and how many wait, when it did not.
	place, waiting int
	// joined: it was not waiting before this answer.
	joined bool
}

// admit decides whether workload uid (key kind/namespace/name), whose change first
// seen at since is due, may roll now under a cap of limit. If it may, roll runs,
// still under the gate.
func (g *capGate) admit(ctx context.Context, now time.Time, limit int, uid types.UID, key string, since time.Time,
	roll func() error) (admission, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rolling, cached := map[types.UID]bool{}, map[types.UID]time.Time{}
	for _, scan := range g.scans {
		found, err := scan(ctx, now)
		if err != nil {
			return admission{}, err
		}
		for u, s := range found {
			cached[u] = s.last
			if s.rolling {
				rolling[u] = true
			}
		}
	}
	for u, at := range g.recent {
		if !cached[u].Before(at) || now.Sub(at) >= recentFor {
			delete(g.recent, u) // the cache shows this rollout: its status decides
		} else {
			rolling[u] = true
		}
	}
	delete(rolling, uid)
	if g.queue == nil {
		g.queue, g.recent = map[types.UID]queued{}, map[types.UID]time.Time{}
	}
	_, was := g.queue[uid]
	g.queue[uid] = queued{since: since, asked: now, key: key}
	type entry struct {
		uid types.UID
		queued
	}
	var line []entry
	for u, q := range g.queue {
		switch {
		case now.Sub(q.asked) >= queueForget || rolling[u]:
			delete(g.queue, u)
		default:
			line = append(line, entry{u, q})
		}
	}
	slices.SortFunc(line, func(a, b entry) int { return cmp.Or(a.since.Compare(b.since), cmp.Compare(a.key, b.key)) })
	place := slices.IndexFunc(line, func(e entry) bool { return e.uid == uid }) + 1
	if free := max(limit-len(rolling), 0); place > free {
		return admission{place: place - free, waiting: len(line) - free, joined: !was}, nil
	}
	if err := roll(); err != nil {
		return admission{}, err
	}
	delete(g.queue, uid)
	g.recent[uid] = now
	return admission{rolled: true}, nil
}

// Whether a workload's rollout is done, by kind: its controller has seen the
// current generation, and every replica runs the current template and is
// available. A kind that replaces pods only when someone deletes them (OnDelete)
// is done at once.

func deploymentFinished(d *appsv1.Deployment) bool {
	want := ptrOr(d.Spec.Replicas, 1)
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas >= want
}

func statefulSetFinished(st *appsv1.StatefulSet) bool {
	if st.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return true
	}
	want := ptrOr(st.Spec.Replicas, 1)
	s := st.Status
	return s.ObservedGeneration >= st.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want &&
		(s.UpdateRevision == "" || s.CurrentRevision == s.UpdateRevision)
}

func daemonSetFinished(ds *appsv1.DaemonSet) bool {
	if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return true
	}
	s := ds.Status
	return s.ObservedGeneration >= ds.Generation && s.UpdatedNumberScheduled == s.DesiredNumberScheduled &&
		s.NumberAvailable >= s.DesiredNumberScheduled
}

func ptrOr[V any](p *V, def V) V {
	if p == nil {
		return def
	}
	return *p
}
