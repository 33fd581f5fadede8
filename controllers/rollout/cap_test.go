package rollout

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	courierscheme "github.com/courier-operator/courier/internal/scheme"
)

// rolled is an opted-in Deployment Courier rolled at at, done or not.
func rolled(name string, at time.Time, done bool) *appsv1.Deployment {
	d := testDeployment(name, envFrom("cm"), map[string]string{AnnotationLastRollout: at.Format(time.RFC3339Nano)})
	d.Generation = 2
	if done {
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	}
	return d
}

func TestCapGateAdmitsUpToTheCapInTheOrderChangesWereSeen(t *testing.T) {
	now := t0
	c := fake.NewClientBuilder().WithScheme(courierscheme.New()).WithObjects(
		rolled("busy", now.Add(-time.Minute), false),     // counts
		rolled("done", now.Add(-time.Minute), true),      // finished: does not count
		rolled("stuck", now.Add(-11*time.Minute), false), // past the deadline: does not count
	).Build()
	g := &capGate{}
	g.addScan(capScan(deployments, c, 10*time.Minute))
	rolls := 0
	roll := func() error { rolls++; return nil }
	admit := func(uid, key string, since time.Time) admission {
		t.Helper()
		a, err := g.admit(context.Background(), now, 2, types.UID(uid), key, since, roll)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// One slot left (busy holds the other). The younger change asks first and
	// takes it: nobody older waits yet.
	if a := admit("young", "Deployment/ns/young", now.Add(-time.Second)); !a.rolled {
		t.Fatalf("a free slot must be taken: %+v", a)
	}
	// Now full: an older and a younger change queue, the older one first.
	if a := admit("late", "Deployment/ns/late", now.Add(-time.Second)); a.rolled || a.place != 1 || !a.joined {
		t.Fatalf("full: %+v", a)
	}
	if a := admit("old", "Deployment/ns/old", now.Add(-time.Hour)); a.rolled || a.place != 1 || a.waiting != 2 {
		t.Fatalf("the older change goes first: %+v", a)
	}
	if a := admit("late", "Deployment/ns/late", now.Add(-time.Second)); a.place != 2 || a.joined {
		t.Fatalf("late is second now, and already waiting: %+v", a)
	}

	// busy finishes and young's recent rollout ages out (young is not a cached
	// workload here): two slots, so both waiting workloads fit, whoever asks first.
	var busy appsv1.Deployment
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "busy"}, &busy); err != nil {
		t.Fatal(err)
	}
	busy.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	if err := c.Status().Update(context.Background(), &busy); err != nil {
		t.Fatal(err)
	}
	now = now.Add(recentFor)
	if a := admit("late", "Deployment/ns/late", now.Add(-time.Second)); !a.rolled {
		t.Fatalf("second in line with two slots: %+v", a)
	}
	if a := admit("old", "Deployment/ns/old", now.Add(-time.Hour)); !a.rolled {
		t.Fatalf("old's turn: %+v", a)
	}
	if rolls != 3 {
		t.Fatalf("%d rollouts, want 3", rolls)
	}
	// A waiting workload that stops asking is forgotten.
	admit("gone", "Deployment/ns/gone", now.Add(-2*time.Hour))
	now = now.Add(queueForget)
	if _, ok := g.queue["gone"]; !ok {
		t.Fatal("gone must wait until it is forgotten")
	}
	admit("other", "Deployment/ns/other", now)
	if _, ok := g.queue["gone"]; ok {
		t.Fatal("a workload that stopped asking must be forgotten")
	}
}

func TestFinishedByKind(t *testing.T) {
	two := int32(2)
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &two}}
	d.Generation = 3
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 3, UpdatedReplicas: 2, AvailableReplicas: 2}
	if deploymentFinished(d) {
		t.Error("a Deployment with an old replica left is not done")
	}
	d.Status.Replicas = 2
	if !deploymentFinished(d) {
		t.Error("a Deployment with every replica updated and available is done")
	}
	d.Generation = 4
	if deploymentFinished(d) {
		t.Error("a generation its controller has not seen is not done")
	}

	st := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: &two}}
	st.Status = appsv1.StatefulSetStatus{UpdatedReplicas: 2, ReadyReplicas: 2, CurrentRevision: "a", UpdateRevision: "b"}
	if statefulSetFinished(st) {
		t.Error("a StatefulSet between revisions is not done")
	}
	st.Status.CurrentRevision = "b"
	if !statefulSetFinished(st) {
		t.Error("a StatefulSet on its update revision with every replica ready is done")
	}
	st.Status = appsv1.StatefulSetStatus{}
	st.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
	if !statefulSetFinished(st) {
		t.Error("OnDelete replaces nothing: done at once")
	}

	ds := &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, UpdatedNumberScheduled: 2, NumberAvailable: 3}}
	if daemonSetFinished(ds) {
		t.Error("a DaemonSet with a node on the old template is not done")
	}
	ds.Status.UpdatedNumberScheduled = 3
	if !daemonSetFinished(ds) {
		t.Error("a DaemonSet updated and available on every node is done")
	}
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 1}
	ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	if !daemonSetFinished(ds) {
		t.Error("OnDelete replaces nothing: done at once")
	}
}

func TestCapGateCountsARecentRolloutUntilTheCacheShowsIt(t *testing.T) {
	now := t0
	c := fake.NewClientBuilder().WithScheme(courierscheme.New()).Build()
	g := &capGate{}
	g.addScan(capScan(deployments, c, 10*time.Minute))
	admit := func(uid string) admission {
		t.Helper()
		a, err := g.admit(context.Background(), now, 1, types.UID(uid), "Deployment/ns/"+uid, now, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := admit("uid-first"); !a.rolled {
		t.Fatalf("the one slot is free: %+v", a)
	}
	// The cache has not seen first's rollout: it holds the slot.
	now = now.Add(time.Second)
	if a := admit("uid-second"); a.rolled {
		t.Fatalf("first's rollout is not in the cache yet; it must count: %+v", a)
	}
	// The cache shows it, still rolling: the status decides, the slot stays taken.
	first := rolled("first", t0, false)
	if err := c.Create(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if a := admit("uid-second"); a.rolled {
		t.Fatalf("first is rolling: %+v", a)
	}
	// Done, well before recentFor: the slot is free at once.
	first.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	if err := c.Status().Update(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if a := admit("uid-second"); !a.rolled {
		t.Fatalf("first finished and the cache shows it: %+v", a)
	}
}
