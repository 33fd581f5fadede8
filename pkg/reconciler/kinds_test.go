package reconciler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

var (
	cmGVK     = corev1.SchemeGroupVersion.WithKind("ConfigMap")
	secretGVK = corev1.SchemeGroupVersion.WithKind("Secret")
)

// multiKindSet keeps, for every kind kinds() returns, one child named "widget-w"
// in namespace a: a ChildSet of several unstructured kinds.
func multiKindSet(kinds func() []schema.GroupVersionKind, desiredKinds func() []schema.GroupVersionKind) reconciler.ChildSet[*Widget, *unstructured.Unstructured] {
	return reconciler.ChildSet[*Widget, *unstructured.Unstructured]{
		Name: "mixed",
		Kinds: func(context.Context, *reconciler.State[*Widget]) ([]schema.GroupVersionKind, error) {
			return kinds(), nil
		},
		Labels: func(w *Widget) map[string]string { return map[string]string{widgetLabel: w.Name} },
		Desired: func(context.Context, *reconciler.State[*Widget]) ([]*unstructured.Unstructured, error) {
			var out []*unstructured.Unstructured
			for _, gvk := range desiredKinds() {
				u := &unstructured.Unstructured{Object: map[string]any{}}
				u.SetGroupVersionKind(gvk)
				u.SetNamespace("a")
				u.SetName("widget-w")
				u.SetAnnotations(map[string]string{"kind": gvk.Kind})
				out = append(out, u)
			}
			return out, nil
		},
		Lister: func(s *reconciler.State[*Widget]) client.Reader { return s.Reader },
	}
}

// TestChildSetOfSeveralKinds: one ChildSet keeps children of every kind Kinds
// returns, tells same-named children of different kinds apart, never prunes a kind
// it was not asked to list, and refuses a desired child of a kind it does not list.
func TestChildSetOfSeveralKinds(t *testing.T) {
	kinds := []schema.GroupVersionKind{cmGVK, secretGVK}
	desired := kinds
	var report reconciler.ChildReport
	build := func() *reconciler.Builder[*Widget] {
		mixed := multiKindSet(func() []schema.GroupVersionKind { return kinds }, func() []schema.GroupVersionKind { return desired }).Step()
		return reconciler.For("widget", func() *Widget { return &Widget{} }).
			Steps(reconciler.Finalizer("finalizer", testFinalizer, mixed.Release), mixed).
			Status(func(ctx context.Context, s *reconciler.State[*Widget]) { report, _ = mixed.Report(s) })
	}
	h := harness(build)
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", nil, "a"))}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Apply != 2 {
		t.Fatalf("first: %v %s", r.Err, env.Counter.Calls())
	}
	if report.Count(reconciler.ChildCreated) != 2 || len(report.Outcomes) != 2 || report.Outcomes[0].Kind != cmGVK || report.Outcomes[1].Kind != secretGVK {
		t.Fatalf("report = %+v", report)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 || report.Count(reconciler.ChildUnchanged) != 2 {
		t.Fatalf("steady state: %v %s %+v", r.Err, env.Counter.Calls(), report)
	}

	// Secrets are not listed this time (say their kind cannot be read): the Secret
	// child is neither compared nor pruned.
	kinds, desired = []schema.GroupVersionKind{cmGVK}, []schema.GroupVersionKind{cmGVK}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Delete != 0 || len(report.Outcomes) != 1 {
		t.Fatalf("kind not listed: %v %s %+v", r.Err, env.Counter.Calls(), report)
	}
	var s corev1.Secret
	if err := env.Fake.Get(context.Background(), client.ObjectKey{Namespace: "a", Name: "widget-w"}, &s); err != nil {
		t.Fatalf("the Secret child of a kind not listed was touched: %v", err)
	}

	// A desired child of a kind the set does not list is a programming error.
	desired = []schema.GroupVersionKind{secretGVK}
	if r := h.Reconcile(t, env, wKey); r.Outcome != reconciler.OutcomeTerminal || !strings.Contains(r.Err.Error(), "not among its Kinds") {
		t.Fatalf("undeclared kind: %s %v", r.Outcome, r.Err)
	}

	// Release lists every kind (through the API reader) and prunes both.
	kinds, desired = []schema.GroupVersionKind{cmGVK, secretGVK}, nil
	w := &Widget{}
	if err := env.Fake.Get(context.Background(), wKey, w); err != nil {
		t.Fatal(err)
	}
	if err := env.Fake.Delete(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Delete != 2 {
		t.Fatalf("release: %v %s", r.Err, env.Counter.Calls())
	}
}

// TestChildSetKindsError: a Kinds that fails makes the step fail, transiently.
func TestChildSetKindsError(t *testing.T) {
	cs := multiKindSet(func() []schema.GroupVersionKind { return nil }, func() []schema.GroupVersionKind { return nil })
	cs.Kinds = func(context.Context, *reconciler.State[*Widget]) ([]schema.GroupVersionKind, error) {
		return nil, errors.New("discovery down")
	}
	harness(stepsOnly(cs.Step())).RunCase(t, rt.Case[*Widget]{
		Objects: []client.Object{widget("w", nil, "a")}, Key: wKey,
		ExpectOutcome: reconciler.OutcomeTransient, ExpectErrContains: "kinds of mixed: discovery down",
	})
}

// TestKeys: a Key carries a typed value from one step to the next and to the Status
// hook, within one reconcile only.
func TestKeys(t *testing.T) {
	plan := reconciler.NewKey[*Widget, []string]("plan")
	other := reconciler.NewKey[*Widget, []string]("plan") // same name, another key
	if plan.String() != "plan" {
		t.Fatalf("String = %q", plan.String())
	}
	var seen, seenOther []string
	var hadOther bool
	build := func() *reconciler.Builder[*Widget] {
		return reconciler.For("widget", func() *Widget { return &Widget{} }).
			Steps(
				reconciler.Sync("first", func(_ context.Context, s *reconciler.State[*Widget]) error {
					if _, ok := plan.Get(s); ok {
						t.Error("a key kept its value from an earlier reconcile")
					}
					plan.Set(s, []string{s.Controller(), "planned"})
					return nil
				}),
				reconciler.Sync("second", func(_ context.Context, s *reconciler.State[*Widget]) error {
					seen, _ = plan.Get(s)
					seenOther, hadOther = other.Get(s)
					return nil
				}))
	}
	h := harness(build)
	for range 2 {
		h.RunCase(t, rt.Case[*Widget]{Objects: []client.Object{widget("w", nil)}, Key: wKey, ExpectOutcome: reconciler.OutcomeDone})
	}
	if strings.Join(seen, " ") != "widget planned" || hadOther || seenOther != nil {
		t.Fatalf("seen %v, other %v %v", seen, seenOther, hadOther)
	}
}

// TestAllStopsWhenReleased: a Finalizer inside All that releases the primary stops
// everything after it.
func TestAllStopsWhenReleased(t *testing.T) {
	var ran bool
	deleting := withFinalizer(widget("w", nil))
	deleting.DeletionTimestamp = &metav1.Time{Time: metav1.Now().Time}
	h := harness(stepsOnly(reconciler.All(
		reconciler.Finalizer[*Widget]("finalizer", testFinalizer, nil),
		reconciler.Sync("after", func(context.Context, *reconciler.State[*Widget]) error { ran = true; return nil }),
	)))
	h.RunCase(t, rt.Case[*Widget]{Objects: []client.Object{deleting}, Key: wKey, ExpectOutcome: reconciler.OutcomeDone})
	if ran {
		t.Fatal("a step ran after the finalizer released the primary")
	}
}

// TestBoundedMessages: every message survives its own size. A list of a thousand
// names still names the first ones and says how many it left out, within the
// limit, cut at whole items (or, for a single huge item, at a rune boundary).
func TestBoundedMessages(t *testing.T) {
	items := make([]string, 1000)
	for i := range items {
		items[i] = "configmap/missing-input-" + strings.Repeat("é", i%7)
	}
	got := reconciler.BoundedList(items, reconciler.MaxEventNote)
	if len(got) > reconciler.MaxEventNote || !utf8.ValidString(got) || !strings.HasPrefix(got, items[0]+", "+items[1]) ||
		!strings.Contains(got, " more") {
		t.Fatalf("BoundedList = %d bytes: %q", len(got), got)
	}
	if reconciler.BoundedList([]string{"a", "b"}, 100) != "a, b" || reconciler.BoundedList(nil, 10) != "" {
		t.Fatal("a short list was changed")
	}
	one := reconciler.BoundedList([]string{strings.Repeat("ü", 900)}, 100)
	if len(one) > 100 || !utf8.ValidString(one) || strings.Contains(one, "more") {
		t.Fatalf("one huge item: %q", one)
	}
	first := reconciler.BoundedList([]string{strings.Repeat("x", 200), "y"}, 50)
	if len(first) > 50 || !strings.HasSuffix(first, " and 1 more") {
		t.Fatalf("a huge first item: %q", first)
	}
	if b := reconciler.Bound("abcdef", 2); b != "..." {
		t.Fatalf("Bound under its own marker = %q", b)
	}

	// Events are bounded where they are recorded.
	h := harness(stepsOnly(reconciler.Sync("noisy", func(_ context.Context, s *reconciler.State[*Widget]) error {
		s.Eventf("Warning", "MissingInput", "Required input(s) not found: %s", strings.Join(items, ", "))
		return nil
	})))
	h.RunCase(t, rt.Case[*Widget]{Objects: []client.Object{widget("w", nil)}, Key: wKey,
		Verify: func(t *testing.T, env *rt.Env, _ *Widget, _ rt.Result) {
			evs := env.Recorder.Events()
			if len(evs) == 0 || len(evs[0].Note) > reconciler.MaxEventNote || !utf8.ValidString(evs[0].Note) {
				t.Fatalf("event note not bounded: %d events", len(evs))
			}
		}})
}
