package reconciler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

// A built-in Deployment has no Courier conditions: it does not implement
// reconciler.Object, and the reconciler must never write its status.

var dKey = types.NamespacedName{Namespace: "apps", Name: "web"}

func deployment(finalizers ...string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: dKey.Namespace, Name: dKey.Name, Generation: 3, Finalizers: finalizers},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1},
	}
}

func deploymentHarness(build func() *reconciler.Builder[*appsv1.Deployment]) rt.Harness[*appsv1.Deployment] {
	return rt.Harness[*appsv1.Deployment]{
		Scheme:     newScheme(),
		NewObj:     func() *appsv1.Deployment { return &appsv1.Deployment{} },
		Controller: func() *reconciler.Builder[*appsv1.Deployment] { return build().Metrics(testMetrics) },
	}
}

// deploymentSteps builds a Deployment controller with these steps and a Status hook
// that changes status fields (which must not be written either).
func deploymentSteps(steps ...reconciler.Step[*appsv1.Deployment]) func() *reconciler.Builder[*appsv1.Deployment] {
	return func() *reconciler.Builder[*appsv1.Deployment] {
		return reconciler.For("rollout-test", func() *appsv1.Deployment { return &appsv1.Deployment{} }).
			Steps(steps...).
			Status(func(_ context.Context, s *reconciler.State[*appsv1.Deployment]) {
				s.Object.Status.ObservedGeneration = 99
				s.Object.Status.Replicas = 42
			})
	}
}

func TestStatuslessPrimaryOutcomes(t *testing.T) {
	var _ client.Object = &appsv1.Deployment{}
	if _, ok := any(&appsv1.Deployment{}).(reconciler.Object); ok {
		t.Fatal("the test primary must not implement reconciler.Object")
	}
	for _, tc := range []struct {
		name    string
		err     error
		notOK   bool
		outcome reconciler.Outcome
		requeue time.Duration
	}{
		{name: "done", outcome: reconciler.OutcomeDone},
		{name: "done with a NotReady fact", notOK: true, outcome: reconciler.OutcomeDone},
		{name: "waiting", err: reconciler.Waiting(45*time.Second, "Coalescing", "waiting for more changes"), outcome: reconciler.OutcomeWaiting, requeue: 45 * time.Second},
		{name: "terminal", err: reconciler.Terminal("BadSpec", "pod template is %s", "invalid"), outcome: reconciler.OutcomeTerminal},
		{name: "transient", err: errors.New("connection refused"), outcome: reconciler.OutcomeTransient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := reconciler.Sync("step", func(_ context.Context, s *reconciler.State[*appsv1.Deployment]) error {
				if tc.notOK {
					s.NotReady("InputMissing", "configmap %s not found", "app-config")
				}
				return tc.err
			})
			deploymentHarness(deploymentSteps(step)).RunCase(t, rt.Case[*appsv1.Deployment]{
				Objects:            []client.Object{deployment()},
				Key:                dKey,
				ExpectOutcome:      tc.outcome,
				ExpectRequeueAfter: tc.requeue,
				ExpectWrites:       &rt.Calls{}, // no status write, ever
				ExpectConditions:   []metav1.Condition{},
				ExpectEvents:       []string{},
				Verify: func(t *testing.T, _ *rt.Env, d *appsv1.Deployment, res rt.Result) {
					if d.Status.ObservedGeneration != 2 || d.Status.Replicas != 1 {
						t.Errorf("status changed: %+v", d.Status)
					}
					if res.Result.RequeueAfter > 0 && res.Err != nil {
						t.Error("a Result together with an error")
					}
					switch tc.outcome {
					case reconciler.OutcomeTerminal:
						if !errors.Is(res.Err, reconcile.TerminalError(nil)) {
							t.Errorf("terminal error does not wrap reconcile.TerminalError: %v", res.Err)
						}
					case reconciler.OutcomeTransient:
						if res.Err == nil || errors.Is(res.Err, reconcile.TerminalError(nil)) {
							t.Errorf("transient outcome returned %v", res.Err)
						}
					default:
						if res.Err != nil {
							t.Errorf("unexpected error %v", res.Err)
						}
					}
				},
			})
		})
	}
}

// TestStatuslessNotReadyMetric: with no conditions to carry it, a NotReady fact is
// counted in courier_reconcile_not_ready_total.
func TestStatuslessNotReadyMetric(t *testing.T) {
	const name = "statusless-metric"
	before := notReadyCount(t, name, "InputMissing")
	h := deploymentHarness(func() *reconciler.Builder[*appsv1.Deployment] {
		return reconciler.For(name, func() *appsv1.Deployment { return &appsv1.Deployment{} }).
			Steps(reconciler.Sync("step", func(_ context.Context, s *reconciler.State[*appsv1.Deployment]) error {
				s.NotReady("Input Missing!", "configmap not found")
				return nil
			}))
	})
	h.RunCase(t, rt.Case[*appsv1.Deployment]{Objects: []client.Object{deployment()}, Key: dKey, ExpectWrites: &rt.Calls{}})
	if got := notReadyCount(t, name, "InputMissing") - before; got != 1 {
		t.Errorf("not-ready counter moved by %v, want 1", got)
	}
}

// notReadyCount reads one series of courier_reconcile_not_ready_total from the
// tests' registry (0 if it does not exist yet).
func notReadyCount(t *testing.T, controller, reason string) float64 {
	t.Helper()
	families, err := testRegistry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "courier_reconcile_not_ready_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["controller"] == controller && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestStatuslessFinalizerAndChildren: Finalizer and ChildSet work on a statusless
// primary; the only writes are the finalizer patch and the child apply.
func TestStatuslessFinalizerAndChildren(t *testing.T) {
	const fin = "test.courier.dev/rollout"
	children := reconciler.ChildSet[*appsv1.Deployment, *corev1.ConfigMap]{
		Name:       "configmaps",
		FieldOwner: "courier",
		NewList:    func() client.ObjectList { return &corev1.ConfigMapList{} },
		Labels: func(d *appsv1.Deployment) map[string]string {
			return map[string]string{"test.courier.dev/deployment": d.Name}
		},
		Desired: func(_ context.Context, s *reconciler.State[*appsv1.Deployment]) ([]*corev1.ConfigMap, error) {
			return []*corev1.ConfigMap{{
				ObjectMeta: metav1.ObjectMeta{Namespace: s.Object.Namespace, Name: s.Object.Name + "-hash"},
				Data:       map[string]string{"generation": "3"},
			}}, nil
		},
	}
	step := children.Step()
	h := deploymentHarness(deploymentSteps(reconciler.Finalizer("finalizer", fin, step.Release), step))
	h.Run(t, []rt.Case[*appsv1.Deployment]{{
		Name:          "first reconcile adds the finalizer and applies the child",
		Objects:       []client.Object{deployment()},
		Key:           dKey,
		ExpectOutcome: reconciler.OutcomeDone,
		ExpectWrites:  &rt.Calls{Patch: 1, Apply: 1},
		ExpectEvents:  []string{},
		Verify: func(t *testing.T, env *rt.Env, d *appsv1.Deployment, _ rt.Result) {
			if !controllerutil.ContainsFinalizer(d, fin) {
				t.Error("finalizer not added")
			}
			var cm corev1.ConfigMap
			if err := env.Fake.Get(context.Background(), types.NamespacedName{Namespace: "apps", Name: "web-hash"}, &cm); err != nil {
				t.Fatalf("child: %v", err)
			}
			if cm.Data["generation"] != "3" {
				t.Errorf("child data = %v", cm.Data)
			}
		},
	}, {
		Name: "deletion releases the children and the finalizer, nothing else",
		Objects: []client.Object{
			func() *appsv1.Deployment {
				d := deployment(fin)
				d.DeletionTimestamp = &metav1.Time{Time: time.Now()}
				return d
			}(),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web-hash",
				Labels: map[string]string{"test.courier.dev/deployment": "web"}}},
		},
		Key:           dKey,
		ExpectOutcome: reconciler.OutcomeDone,
		ExpectWrites:  &rt.Calls{Delete: 1, Patch: 1},
	}})
}
