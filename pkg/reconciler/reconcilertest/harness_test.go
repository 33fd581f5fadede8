package reconcilertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// gadget is a tiny primary with Courier-style status, for the kit's own tests.
type gadget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Status            gadgetStatus `json:"status,omitempty"`
}

type gadgetStatus struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type gadgetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []gadget `json:"items"`
}

func (g *gadget) GetConditions() []metav1.Condition  { return g.Status.Conditions }
func (g *gadget) SetConditions(c []metav1.Condition) { g.Status.Conditions = c }
func (g *gadget) GetObservedGeneration() int64       { return g.Status.ObservedGeneration }
func (g *gadget) SetObservedGeneration(n int64)      { g.Status.ObservedGeneration = n }
func (g *gadget) DeepCopyObject() runtime.Object {
	c := *g
	c.ObjectMeta = *g.ObjectMeta.DeepCopy()
	c.Status.Conditions = append([]metav1.Condition(nil), g.Status.Conditions...)
	return &c
}
func (l *gadgetList) DeepCopyObject() runtime.Object {
	c := *l
	c.Items = make([]gadget, len(l.Items))
	for i := range l.Items {
		c.Items[i] = *l.Items[i].DeepCopyObject().(*gadget)
	}
	return &c
}

func kitScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	gv := schema.GroupVersion{Group: "test.courier.dev", Version: "v1"}
	s.AddKnownTypes(gv, &gadget{}, &gadgetList{})
	metav1.AddToGroupVersion(s, gv)
	return s
}

// gadgetController keeps one ConfigMap per gadget in namespace "a", and fails its
// reconcile transiently while the gadget carries the annotation "fail".
func gadgetController() *reconciler.Builder[*gadget] {
	configMaps := reconciler.ChildSet[*gadget, *corev1.ConfigMap]{
		Name:    "configmaps",
		NewList: func() client.ObjectList { return &corev1.ConfigMapList{} },
		Labels:  func(g *gadget) map[string]string { return map[string]string{"gadget": g.Name} },
		Desired: func(_ context.Context, s *reconciler.State[*gadget]) ([]*corev1.ConfigMap, error) {
			return []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: s.Object.Name}, Data: map[string]string{"k": "v"}}}, nil
		},
	}.Step()
	return reconciler.For("gadget", func() *gadget { return &gadget{} }).
		Steps(configMaps, reconciler.Sync("maybe-wait", func(_ context.Context, s *reconciler.State[*gadget]) error {
			if s.Object.Annotations["wait"] != "" {
				return reconciler.Waiting(time.Minute, "Told", "told to wait")
			}
			return nil
		}))
}

var gKey = types.NamespacedName{Name: "g"}

func gadgetObj() *gadget { return &gadget{ObjectMeta: metav1.ObjectMeta{Name: "g", Generation: 1}} }

// recorder collects what the harness reports instead of failing the test.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.errs = append(r.errs, "fatal: "+fmt.Sprintf(format, a...))
}

// TestHarnessPassesAMatchingCase and TestHarnessReportsEveryMismatch: the kit is
// only as good as its failures, so each expectation is proven to fail when wrong.
func TestHarnessPassesAMatchingCase(t *testing.T) {
	h := Harness[*gadget]{Scheme: kitScheme(t), NewObj: func() *gadget { return &gadget{} }, Controller: gadgetController}
	verified := false
	h.Run(t, []Case[*gadget]{{
		Name:          "creates its ConfigMap, one status write, Ready",
		Objects:       []client.Object{gadgetObj()},
		Key:           gKey,
		ExpectWrites:  &Calls{Apply: 1, StatusPatch: 1},
		ExpectOutcome: reconciler.OutcomeDone,
		ExpectConditions: []metav1.Condition{
			{Type: reconciler.ConditionReady, Status: metav1.ConditionTrue, Reason: reconciler.ReasonSucceeded, ObservedGeneration: 1},
		},
		ExpectEvents: []string{"Normal Succeeded"},
		Verify: func(t *testing.T, env *Env, g *gadget, res Result) {
			verified = g != nil && res.Err == nil
			var cm corev1.ConfigMap
			if err := env.Fake.Get(context.Background(), types.NamespacedName{Namespace: "a", Name: "g"}, &cm); err != nil || cm.Data["k"] != "v" {
				t.Errorf("child = %+v, %v", cm, err)
			}
		},
	}, {
		Name:    "setup runs first and is not counted",
		Objects: []client.Object{gadgetObj()},
		Key:     gKey,
		Setup: func(t *testing.T, env *Env) {
			first := Harness[*gadget]{Scheme: env.Scheme, NewObj: func() *gadget { return &gadget{} }, Controller: gadgetController}
			if res := first.Reconcile(t, env, gKey); res.Err != nil {
				t.Fatal(res.Err)
			}
		},
		ExpectWrites: &Calls{},
		ExpectEvents: []string{},
	}})
	if !verified {
		t.Fatal("Verify did not run")
	}
}

func TestHarnessReportsEveryMismatch(t *testing.T) {
	h := Harness[*gadget]{Scheme: kitScheme(t), NewObj: func() *gadget { return &gadget{} }, Controller: gadgetController}
	waiting := gadgetObj()
	waiting.Annotations = map[string]string{"wait": "yes"}
	for name, tc := range map[string]struct {
		c    Case[*gadget]
		want string
	}{
		"writes":     {Case[*gadget]{ExpectWrites: &Calls{Create: 1}}, "writes:"},
		"outcome":    {Case[*gadget]{ExpectOutcome: reconciler.OutcomeTerminal}, "outcome = done"},
		"requeue":    {Case[*gadget]{ExpectRequeueAfter: time.Second}, "requeueAfter = 0s"},
		"error":      {Case[*gadget]{ExpectErrContains: "boom"}, `want it to contain "boom"`},
		"conditions": {Case[*gadget]{ExpectConditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Nope"}}}, "conditions:"},
		"events":     {Case[*gadget]{ExpectEvents: []string{"Warning Failed"}}, "events:"},
	} {
		t.Run(name, func(t *testing.T) {
			var r recorder
			tc.c.Objects, tc.c.Key = []client.Object{gadgetObj()}, gKey
			h.runCase(t, &r, tc.c)
			if len(r.errs) != 1 || !strings.Contains(r.errs[0], tc.want) {
				t.Fatalf("reported %q, want one report containing %q", r.errs, tc.want)
			}
		})
	}
	// A Waiting step: the harness reads the requeue and the outcome.
	h.RunCase(t, Case[*gadget]{Objects: []client.Object{waiting}, Key: gKey,
		ExpectOutcome: reconciler.OutcomeWaiting, ExpectRequeueAfter: time.Minute})
	// A malformed controller fails the build, which the harness reports.
	var r recorder
	broken := Harness[*gadget]{Scheme: h.Scheme, NewObj: h.NewObj, Controller: func() *reconciler.Builder[*gadget] {
		return reconciler.For("", func() *gadget { return &gadget{} })
	}}
	broken.runCase(t, &r, Case[*gadget]{Objects: []client.Object{gadgetObj()}, Key: gKey})
	if len(r.errs) == 0 || !strings.Contains(r.errs[0], "BuildWith") {
		t.Fatalf("a failed build was not reported: %v", r.errs)
	}
}

// TestStatuslessPrimaryHasNoConditions: a primary without Courier status is stored
// like any object; expecting no conditions matches it.
func TestStatuslessPrimaryHasNoConditions(t *testing.T) {
	h := Harness[*corev1.ConfigMap]{Scheme: kitScheme(t), NewObj: func() *corev1.ConfigMap { return &corev1.ConfigMap{} },
		Controller: func() *reconciler.Builder[*corev1.ConfigMap] {
			return reconciler.For("cm", func() *corev1.ConfigMap { return &corev1.ConfigMap{} }).
				Steps(reconciler.Sync("noop", func(context.Context, *reconciler.State[*corev1.ConfigMap]) error { return nil }))
		}}
	h.RunCase(t, Case[*corev1.ConfigMap]{
		Objects: []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p"}}},
		Key:     types.NamespacedName{Namespace: "a", Name: "p"}, ExpectConditions: []metav1.Condition{}, ExpectWrites: &Calls{},
	})
	// A primary that is gone reaches Verify as the zero value.
	h.RunCase(t, Case[*corev1.ConfigMap]{Key: types.NamespacedName{Namespace: "a", Name: "gone"},
		Verify: func(t *testing.T, _ *Env, p *corev1.ConfigMap, _ Result) {
			if p != nil {
				t.Fatalf("a missing primary reached Verify as %+v", p)
			}
		}})
}

// TestCountingApplies: server-side applies, of objects and of status, are counted
// apart; interception comes after counting.
func TestCountingApplies(t *testing.T) {
	var intercepted int
	env := NewEnv(kitScheme(t), Options{
		StatusSubresource: []client.Object{&corev1.Pod{}},
		Funcs: interceptor.Funcs{Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			intercepted++
			return c.Apply(ctx, obj, opts...)
		}},
	})
	ctx := context.Background()
	cm := applycorev1.ConfigMap("c", "a").WithData(map[string]string{"k": "v"})
	if err := env.Client.Apply(ctx, cm, client.FieldOwner("kit")); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p"}}
	if err := env.Fake.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	_ = env.Client.Status().Apply(ctx, applycorev1.Pod("p", "a").WithStatus(applycorev1.PodStatus().WithMessage("m")), client.FieldOwner("kit"))
	_ = env.Client.SubResource("status").Update(ctx, pod)
	_ = env.Client.SubResource("status").Patch(ctx, pod, client.MergeFrom(pod.DeepCopy()))
	_ = env.Client.SubResource("ephemeralcontainers").Update(ctx, pod)
	_ = env.Client.SubResource("ephemeralcontainers").Patch(ctx, pod, client.MergeFrom(pod.DeepCopy()))
	got := env.Counter.Calls()
	if got.Apply != 1 || got.StatusApply != 1 || got.StatusUpdate != 1 || got.StatusPatch != 1 || got.Update != 1 || got.Patch != 1 || intercepted != 1 {
		t.Fatalf("calls = %s, intercepted %d", got, intercepted)
	}
	if got.Writes() != 6 || got.WritesOnly() != got {
		t.Fatalf("Writes = %d", got.Writes())
	}
}
