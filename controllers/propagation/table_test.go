package propagation

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
	"github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

// Table tests of one reconcile on the fake API (reconcilertest): exact writes,
// conditions and events. The envtest suite covers what needs a real API server.

func tableScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func tableEngine() *engine {
	return &engine{opts: Options{}.withDefaults(), kinds: newKindRegistry(nil, nil)}
}

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

func TestClusterPropagationReconcile(t *testing.T) {
	e := tableEngine()
	h := reconcilertest.Harness[*v1alpha1.ClusterPropagation]{
		Scheme:     tableScheme(t),
		NewObj:     func() *v1alpha1.ClusterPropagation { return &v1alpha1.ClusterPropagation{} },
		Controller: func() *reconciler.Builder[*v1alpha1.ClusterPropagation] { return reconcilerFor(e, clusterVariant) },
	}
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
		{
			Name:          "missing source: no copies, Ready=False SourceNotFound",
			Objects:       world(cprop("p", secretRef("src", "creds"))),
			Key:           key,
			ExpectWrites:  &reconcilertest.Calls{StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: ReasonSourceNotFound, ObservedGeneration: 1},
			},
		},
		{
			Name: "token Secret refused",
			Objects: world(cprop("p", secretRef("src", "tok")), srcSecret("src", "tok", func(s *corev1.Secret) {
				s.Type = corev1.SecretTypeServiceAccountToken
			})),
			Key:           key,
			ExpectWrites:  &reconcilertest.Calls{StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "SourceRefused", ObservedGeneration: 1},
			},
		},
	})
}

func TestPropagationReconcileConsent(t *testing.T) {
	e := tableEngine()
	h := reconcilertest.Harness[*v1alpha1.Propagation]{
		Scheme:     tableScheme(t),
		NewObj:     func() *v1alpha1.Propagation { return &v1alpha1.Propagation{} },
		Controller: func() *reconciler.Builder[*v1alpha1.Propagation] { return reconcilerFor(e, pullVariant) },
	}
	pullObj := &v1alpha1.Propagation{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team-a", Generation: 1, Finalizers: []string{v1alpha1.Finalizer}},
		Spec:       v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef("src", "creds")}},
	}
	key := types.NamespacedName{Namespace: "team-a", Name: "p"}
	base := []client.Object{nsObj("src", nil), nsObj("team-a", nil), pullObj}
	h.Run(t, []reconcilertest.Case[*v1alpha1.Propagation]{
		{
			Name:          "no consent: nothing copied, NotShared",
			Objects:       append(base, srcSecret("src", "creds")),
			Key:           key,
			ExpectWrites:  &reconcilertest.Calls{StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: ReasonNotShared, ObservedGeneration: 1},
			},
		},
		{
			Name: "consent by glob: one copy",
			Objects: append(base, srcSecret("src", "creds", func(s *corev1.Secret) {
				s.Annotations = map[string]string{v1alpha1.AnnotationShareWithNamespaces: "team-*"}
			})),
			Key:           key,
			ExpectWrites:  &reconcilertest.Calls{Create: 1, StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: reconciler.ReasonSucceeded, ObservedGeneration: 1},
			},
		},
	})
}
