package propagation

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/copies"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/pkg/reconciler"
	"github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

// Table tests of one reconcile on the fake API (reconcilertest): exact writes,
// conditions and events. The envtest suite covers what needs a real API server.

func nsObj(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func srcSecret(ns, name string, mutate ...func(*corev1.Secret)) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func cprop(name string, refs ...v1alpha1.SourceReference) *v1alpha1.ClusterPropagation {
	return &v1alpha1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, Finalizers: []string{v1alpha1.Finalizer}},
		Spec: v1alpha1.ClusterPropagationSpec{
			Sources: refs,
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"team": "a"}}},
		},
	}
}

// tableHarness runs one reconcile of variant v's controller on the fake API.
func tableHarness[T reconciler.Object](v variant[T]) reconcilertest.Harness[T] {
	e := &engine{opts: Options{}.withDefaults(), kinds: newKindRegistry(nil, nil)}
	return reconcilertest.Harness[T]{
		Scheme:     courierscheme.New(),
		NewObj:     v.New,
		Controller: func() *reconciler.Builder[T] { return reconcilerFor(e, v) },
	}
}

// readyCase is a case whose only assertions are the writes and the Ready condition
// (with ObservedGeneration 1) that one reconcile of objects leaves.
func readyCase[T reconciler.Object](name string, objects []client.Object, key types.NamespacedName, writes reconcilertest.Calls, ready metav1.ConditionStatus, reason string) reconcilertest.Case[T] {
	return reconcilertest.Case[T]{
		Name:             name,
		Objects:          objects,
		Key:              key,
		ExpectWrites:     &writes,
		ExpectOutcome:    reconciler.OutcomeDone,
		ExpectConditions: []metav1.Condition{{Type: "Ready", Status: ready, Reason: reason, ObservedGeneration: 1}},
	}
}

func TestClusterPropagationReconcile(t *testing.T) {
	h := tableHarness(clusterVariant)
	world := func(extra ...client.Object) []client.Object {
		return append([]client.Object{
			nsObj("src", map[string]string{"team": "a"}), nsObj("a1", map[string]string{"team": "a"}),
			nsObj("a2", map[string]string{"team": "a"}), nsObj("b1", map[string]string{"team": "b"}),
			nsObj("kube-system", map[string]string{"team": "a"}),
		}, extra...)
	}
	key := types.NamespacedName{Name: "p"}
	h.Run(t, []reconcilertest.Case[*v1alpha1.ClusterPropagation]{
		{
			Name:          "fan-out: one create per target namespace, one status write",
			Objects:       world(srcSecret("src", "creds"), cprop("p", secretRef("src", "creds"))),
			Key:           key,
			ExpectWrites:  &reconcilertest.Calls{Create: 2, StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectEvents:  []string{"Normal Synced", "Normal Succeeded"},
			Verify: func(t *testing.T, env *reconcilertest.Env, p *v1alpha1.ClusterPropagation, _ reconcilertest.Result) {
				for _, ns := range []string{"a1", "a2"} {
					var c corev1.Secret
					if err := env.Fake.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "creds"}, &c); err != nil {
						t.Fatalf("copy in %s: %v", ns, err)
					}
					if string(c.Data["k"]) != "v" || c.Labels[v1alpha1.LabelClusterPropagation] != "p" {
						t.Errorf("copy in %s = %v %v", ns, c.Labels, c.Data)
					}
				}
				if p.Status.Desired != 2 || p.Status.Synced != 2 || p.Status.LastSyncTime == nil || p.Status.ObservedGeneration != 1 {
					t.Errorf("status = %+v", p.Status)
				}
			},
		},
		{
			Name:    "steady state: a second reconcile writes nothing",
			Objects: world(srcSecret("src", "creds"), cprop("p", secretRef("src", "creds"))),
			Key:     key,
			Setup: func(t *testing.T, env *reconcilertest.Env) {
				if res := h.Reconcile(t, env, key); res.Err != nil {
					t.Fatal(res.Err)
				}
			},
			ExpectWrites:  &reconcilertest.Calls{},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectEvents:  []string{},
		},
		readyCase[*v1alpha1.ClusterPropagation]("missing source: no copies, Ready=False SourceNotFound",
			world(cprop("p", secretRef("src", "creds"))),
			key, reconcilertest.Calls{StatusPatch: 1}, metav1.ConditionFalse, ReasonSourceNotFound),
		readyCase[*v1alpha1.ClusterPropagation]("token Secret refused",
			world(cprop("p", secretRef("src", "tok")), srcSecret("src", "tok", func(s *corev1.Secret) {
				s.Type = corev1.SecretTypeServiceAccountToken
			})),
			key, reconcilertest.Calls{StatusPatch: 1}, metav1.ConditionFalse, "SourceRefused"),
		{
			// v1alpha1's pattern admits ':' (other kinds' names may hold one); a Secret's may not.
			Name: "a copy name the kind cannot have: nothing written, stalled until the spec changes",
			Objects: world(srcSecret("src", "creds"), func() client.Object {
				p := cprop("p", secretRef("src", "creds"))
				p.Spec.Template = &v1alpha1.CopyTemplate{Name: "creds:copy"}
				return p
			}()),
			Key:           key,
			ExpectWrites:  &reconcilertest.Calls{StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeTerminal,
			Verify: func(t *testing.T, _ *reconcilertest.Env, p *v1alpha1.ClusterPropagation, _ reconcilertest.Result) {
				ready := meta.FindStatusCondition(p.Status.Conditions, "Ready")
				if ready == nil || ready.Reason != copies.ReasonInvalidCopyName || !strings.Contains(ready.Message, "src/creds") {
					t.Errorf("Ready = %+v, want InvalidCopyName naming the source", ready)
				}
			},
		},
	})
}

func TestPropagationReconcileConsent(t *testing.T) {
	h := tableHarness(pullVariant)
	pullObj := &v1alpha1.Propagation{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team-a", Generation: 1, Finalizers: []string{v1alpha1.Finalizer}},
		Spec:       v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef("src", "creds")}},
	}
	key := types.NamespacedName{Namespace: "team-a", Name: "p"}
	base := []client.Object{nsObj("src", nil), nsObj("team-a", nil), pullObj}
	h.Run(t, []reconcilertest.Case[*v1alpha1.Propagation]{
		readyCase[*v1alpha1.Propagation]("no consent: nothing copied, NotShared",
			append(base, srcSecret("src", "creds")),
			key, reconcilertest.Calls{StatusPatch: 1}, metav1.ConditionFalse, ReasonNotShared),
		readyCase[*v1alpha1.Propagation]("consent by glob: one copy",
			append(base, srcSecret("src", "creds", func(s *corev1.Secret) {
				s.Annotations = map[string]string{v1alpha1.AnnotationShareWithNamespaces: "team-*"}
			})),
			key, reconcilertest.Calls{Create: 1, StatusPatch: 1}, metav1.ConditionTrue, reconciler.ReasonSucceeded),
	})
}
