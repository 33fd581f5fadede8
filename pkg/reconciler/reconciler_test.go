package reconciler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

const testFinalizer = "test.courier.dev/cleanup"

var wKey = types.NamespacedName{Name: "w"}

// testMetrics are the reconciler metrics every test controller records, under the
// name Courier gives them, in a registry of their own (testRegistry).
var (
	testRegistry = prometheus.NewRegistry()
	testMetrics  = func() *reconciler.Metrics {
		m := reconciler.NewMetrics("courier")
		testRegistry.MustRegister(m.Collectors()...)
		return m
	}()
)

func harness(build func() *reconciler.Builder[*Widget]) rt.Harness[*Widget] {
	return rt.Harness[*Widget]{Scheme: newScheme(), NewObj: func() *Widget { return &Widget{} },
		Controller: func() *reconciler.Builder[*Widget] { return build().Metrics(testMetrics) }}
}

// configMapSet is the ChildSet of the example controller, with hooks to vary.
func configMapSet(mut ...func(*reconciler.ChildSet[*Widget, *corev1.ConfigMap])) reconciler.ChildSet[*Widget, *corev1.ConfigMap] {
	cs := widgetConfigMaps()
	for _, m := range mut {
		m(&cs)
	}
	return cs
}

// controllerWith builds a widget controller: finalizer (cleanup = Release), then the
// ChildSet, then extra steps; the Status hook counts synced children.
func controllerWith(cs reconciler.ChildSet[*Widget, *corev1.ConfigMap], extra ...reconciler.Step[*Widget]) func() *reconciler.Builder[*Widget] {
	return controllerWithReport(cs, nil, extra...)
}

// controllerWithReport is controllerWith that also captures the ChildSet's report
// of the last reconcile into report (when not nil).
func controllerWithReport(cs reconciler.ChildSet[*Widget, *corev1.ConfigMap], report *reconciler.ChildReport, extra ...reconciler.Step[*Widget]) func() *reconciler.Builder[*Widget] {
	return func() *reconciler.Builder[*Widget] {
		configMaps := cs.Step()
		return reconciler.For("widget", func() *Widget { return &Widget{} }).
			Steps(reconciler.Finalizer("finalizer", testFinalizer, configMaps.Release), configMaps).
			Steps(extra...).
			Status(func(ctx context.Context, s *reconciler.State[*Widget]) {
				r, _ := configMaps.Report(s)
				s.Object.Status.Synced = r.Synced()
				if report != nil {
					*report = r
				}
			})
	}
}

// stepsOnly builds a controller with just these steps.
func stepsOnly(steps ...reconciler.Step[*Widget]) func() *reconciler.Builder[*Widget] {
	return func() *reconciler.Builder[*Widget] {
		return reconciler.For("widget", func() *Widget { return &Widget{} }).Steps(steps...)
	}
}

func cond(t string, st metav1.ConditionStatus, reason string, gen int64) metav1.Condition {
	return metav1.Condition{Type: t, Status: st, Reason: reason, ObservedGeneration: gen}
}

var (
	readyTrue = cond(reconciler.ConditionReady, metav1.ConditionTrue, reconciler.ReasonSucceeded, 1)
	blue      = map[string]string{"color": "blue"}
)

// ownedCM is a ConfigMap as the controller would have applied it.
func ownedCM(ns string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "widget-w", Namespace: ns, Labels: map[string]string{widgetLabel: "w"}},
		Data:       data,
	}
}

func unmanagedCM(ns string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "widget-w", Namespace: ns}, Data: data}
}

// withFinalizer returns w with the test finalizer and (optionally) a Ready status.
func withFinalizer(w *Widget) *Widget {
	w.Finalizers = []string{testFinalizer}
	return w
}

func getCM(t *testing.T, env *rt.Env, ns string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := env.Fake.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "widget-w"}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return cm
}

func TestChildSetTable(t *testing.T) {
	h := harness(controllerWith(configMapSet()))
	h.Run(t, []rt.Case[*Widget]{
		{
			Name:             "fan-out: finalizer, one apply per namespace, one status write",
			Objects:          []client.Object{widget("w", blue, "a", "b", "c")},
			Key:              wKey,
			ExpectWrites:     &rt.Calls{Patch: 1, Apply: 3, StatusPatch: 1},
			ExpectOutcome:    reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{readyTrue},
			ExpectEvents:     []string{"Normal Succeeded"},
			Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
				for _, ns := range []string{"a", "b", "c"} {
					cm := getCM(t, env, ns)
					if cm == nil || cm.Data["color"] != "blue" || cm.Labels[widgetLabel] != "w" {
						t.Errorf("configmap in %s = %+v", ns, cm)
					}
				}
				if w.Status.Synced != 3 || w.Status.ObservedGeneration != 1 {
					t.Errorf("status = %+v", w.Status)
				}
				if len(w.Finalizers) != 1 {
					t.Errorf("finalizers = %v", w.Finalizers)
				}
			},
		},
		{
			Name:          "owned child with drift is re-applied",
			Objects:       []client.Object{withFinalizer(widget("w", blue, "a", "b")), ownedCM("a", blue), ownedCM("b", map[string]string{"color": "red"})},
			Key:           wKey,
			ExpectWrites:  &rt.Calls{Apply: 1, StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
				if cm := getCM(t, env, "b"); cm.Data["color"] != "blue" {
					t.Errorf("drift not repaired: %v", cm.Data)
				}
			},
		},
		{
			Name: "extra fields in live (defaults, other managers) cause no write",
			Objects: []client.Object{withFinalizer(widget("w", blue, "a")), func() client.Object {
				cm := ownedCM("a", map[string]string{"color": "blue", "added-by-someone": "x"})
				cm.Annotations = map[string]string{"other": "y"}
				cm.Immutable = new(bool)
				return cm
			}()},
			Key:          wKey,
			ExpectWrites: &rt.Calls{StatusPatch: 1},
		},
		{
			Name:          "owned child no longer desired is deleted",
			Objects:       []client.Object{withFinalizer(widget("w", blue, "a")), ownedCM("a", blue), ownedCM("gone", blue)},
			Key:           wKey,
			ExpectWrites:  &rt.Calls{Delete: 1, StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			Verify: func(t *testing.T, env *rt.Env, _ *Widget, _ rt.Result) {
				if getCM(t, env, "gone") != nil {
					t.Error("undesired child not deleted")
				}
			},
		},
		{
			Name:             "unmanaged object with the desired name: default is skip and report",
			Objects:          []client.Object{withFinalizer(widget("w", blue, "a", "b")), unmanagedCM("b", map[string]string{"color": "theirs"})},
			Key:              wKey,
			ExpectWrites:     &rt.Calls{Apply: 1, StatusPatch: 1},
			ExpectOutcome:    reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{cond("Ready", "False", reconciler.ReasonChildConflict, 1)},
			ExpectEvents:     []string{"Warning ChildConflict"},
			Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
				if cm := getCM(t, env, "b"); cm.Data["color"] != "theirs" || cm.Labels[widgetLabel] != "" {
					t.Errorf("unmanaged object modified: %+v", cm)
				}
				if w.Status.Synced != 1 {
					t.Errorf("synced = %d", w.Status.Synced)
				}
			},
		},
		{
			Name:    "object being deleted: cleanup prunes children, finalizer removed, later steps skipped, no status write",
			Objects: []client.Object{deleting(withFinalizer(widget("w", blue, "a", "b"))), ownedCM("a", blue), ownedCM("b", blue)},
			Key:     wKey,
			// two deletes (Release), one finalizer patch; no apply: the ChildSet step does not run.
			ExpectWrites:  &rt.Calls{Delete: 2, Patch: 1},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectEvents:  []string{},
			Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
				if w != nil {
					t.Errorf("widget still there: %+v", w.ObjectMeta)
				}
				if getCM(t, env, "a") != nil || getCM(t, env, "b") != nil {
					t.Error("children not cleaned up")
				}
			},
		},
		{
			Name:    "cleanup failure keeps the finalizer and retries",
			Objects: []client.Object{deleting(withFinalizer(widget("w", blue, "a"))), ownedCM("a", blue)},
			Key:     wKey,
			Funcs: interceptor.Funcs{Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				return apierrors.NewServiceUnavailable("try later")
			}},
			ExpectWrites:  &rt.Calls{Delete: 1, StatusPatch: 1},
			ExpectOutcome: reconciler.OutcomeTransient,
			ExpectConditions: []metav1.Condition{
				cond("Ready", "False", reconciler.ReasonTransientError, 1),
				cond("Reconciling", "True", reconciler.ReasonTransientError, 1),
			},
			Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
				if w == nil || len(w.Finalizers) != 1 {
					t.Fatalf("finalizer removed although cleanup failed: %+v", w)
				}
			},
		},
		{
			Name:          "primary not found: nothing happens",
			Key:           wKey,
			ExpectWrites:  &rt.Calls{},
			ExpectOutcome: reconciler.OutcomeDone,
			ExpectEvents:  []string{},
		},
		{
			Name:    "get failure is transient",
			Key:     wKey,
			Objects: []client.Object{widget("w", blue, "a")},
			Funcs: interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				return apierrors.NewTooManyRequests("slow down", 1)
			}},
			ExpectWrites:  &rt.Calls{},
			ExpectOutcome: reconciler.OutcomeTransient,
		},
		{
			Name:    "partial failure: other children converge, aggregated transient error",
			Objects: []client.Object{widget("w", blue, "a", "b", "c")},
			Key:     wKey,
			Funcs: interceptor.Funcs{Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				if u, ok := obj.(interface{ GetNamespace() string }); ok && u.GetNamespace() == "b" {
					return apierrors.NewServiceUnavailable("etcd is sad")
				}
				return c.Apply(ctx, obj, opts...)
			}},
			ExpectWrites:      &rt.Calls{Patch: 1, Apply: 3, StatusPatch: 1},
			ExpectOutcome:     reconciler.OutcomeTransient,
			ExpectErrContains: "1 of 3 children of configmaps failed: b/widget-w",
			ExpectConditions: []metav1.Condition{
				cond("Ready", "False", reconciler.ReasonTransientError, 1),
				cond("Reconciling", "True", reconciler.ReasonTransientError, 1),
			},
			ExpectEvents: []string{"Warning TransientError"},
			Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
				if getCM(t, env, "a") == nil || getCM(t, env, "c") == nil || getCM(t, env, "b") != nil {
					t.Error("other children did not converge")
				}
				if w.Status.Synced != 2 || w.Status.ObservedGeneration != 0 {
					t.Errorf("status = %+v", w.Status)
				}
			},
		},
		{
			Name:    "non-retryable child failure: NotReady, no error",
			Objects: []client.Object{withFinalizer(widget("w", blue, "a", "b"))},
			Key:     wKey,
			Funcs: interceptor.Funcs{Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				if u, ok := obj.(interface{ GetNamespace() string }); ok && u.GetNamespace() == "b" {
					return apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "widget-w", nil)
				}
				return c.Apply(ctx, obj, opts...)
			}},
			ExpectWrites:     &rt.Calls{Apply: 2, StatusPatch: 1},
			ExpectOutcome:    reconciler.OutcomeDone,
			ExpectConditions: []metav1.Condition{cond("Ready", "False", reconciler.ReasonChildFailed, 1)},
		},
		{
			Name:    "status write conflict is transient",
			Objects: []client.Object{withFinalizer(widget("w", blue, "a"))},
			Key:     wKey,
			Funcs: interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				return apierrors.NewConflict(schema.GroupResource{Resource: "widgets"}, "w", errors.New("changed"))
			}},
			ExpectWrites:      &rt.Calls{Apply: 1, StatusPatch: 1},
			ExpectOutcome:     reconciler.OutcomeTransient,
			ExpectErrContains: "writing status",
			ExpectEvents:      []string{},
		},
	})
}

func deleting(w *Widget) *Widget {
	now := metav1.Now()
	w.DeletionTimestamp = &now
	return w
}

// TestSteadyStateZeroWrites: the second reconcile of an unchanged world makes no
// write at all and emits no event; the status (LastTransitionTime included) is kept.
func TestSteadyStateZeroWrites(t *testing.T) {
	h := harness(controllerWith(configMapSet()))
	env := h.NewEnv([]client.Object{widget("w", map[string]string{"a": "1", "b": "2"}, "x", "y")}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	before := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, before)
	env.Counter.Reset()
	env.Recorder.Reset()
	time.Sleep(1100 * time.Millisecond) // a new LastTransitionTime would differ
	for i := 0; i < 3; i++ {
		r := h.Reconcile(t, env, wKey)
		if r.Err != nil || r.Outcome != reconciler.OutcomeDone {
			t.Fatalf("reconcile %d: %v", i, r.Err)
		}
	}
	if w := env.Counter.Calls().Writes(); w != 0 {
		t.Fatalf("steady state made %d writes: %s", w, env.Counter.Calls())
	}
	if ev := env.Recorder.Events(); len(ev) != 0 {
		t.Fatalf("steady state emitted events: %v", ev)
	}
	after := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, after)
	if !after.Status.Conditions[0].LastTransitionTime.Equal(&before.Status.Conditions[0].LastTransitionTime) {
		t.Error("LastTransitionTime changed in steady state")
	}

	// A removed data key must be removed from the children (the subset compare alone
	// would not see it; managedFields do).
	w := after.DeepCopy()
	w.Spec.Data = map[string]string{"a": "1"}
	w.Generation = 2
	if err := env.Fake.Update(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	if c := env.Counter.Calls(); c.Apply != 2 {
		t.Fatalf("removing a key: %s", c)
	}
	if cm := getCM(t, env, "x"); len(cm.Data) != 1 || cm.Data["a"] != "1" {
		t.Fatalf("key not removed: %v", cm.Data)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("not steady after removal: %v %s", r.Err, env.Counter.Calls())
	}
}

// TestFinalizerBeforeChildren: the finalizer is on the stored primary before the
// first child is applied.
func TestFinalizerBeforeChildren(t *testing.T) {
	h := harness(controllerWith(configMapSet()))
	var env *rt.Env
	var checked atomic.Int32
	env = h.NewEnv([]client.Object{widget("w", blue, "a", "b")}, interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			w := &Widget{}
			if err := env.Fake.Get(ctx, wKey, w); err != nil || len(w.Finalizers) != 1 {
				t.Errorf("child applied before the finalizer was stored: %v %v", err, w.Finalizers)
			}
			checked.Add(1)
			return c.Apply(ctx, obj, opts...)
		},
	})
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	if checked.Load() != 2 {
		t.Fatalf("applies = %d", checked.Load())
	}
}

// TestFinalizerPatchesOnlyFinalizers: the finalizer patch carries metadata only, so
// status fields set by the steps survive and no spec is overwritten.
func TestFinalizerPatchesOnlyFinalizers(t *testing.T) {
	var body string
	h := harness(stepsOnly(reconciler.Finalizer[*Widget]("finalizer", testFinalizer, nil)))
	env := h.NewEnv([]client.Object{widget("w", blue)}, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			data, _ := patch.Data(obj)
			body = string(data)
			return c.Patch(ctx, obj, patch, opts...)
		},
	})
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	if !strings.Contains(body, `"finalizers":["test.courier.dev/cleanup"]`) || strings.Contains(body, "spec") || strings.Contains(body, "status") {
		t.Fatalf("finalizer patch = %s", body)
	}
}

func TestFinalizerOnDeleteWithoutOurFinalizer(t *testing.T) {
	ran := false
	h := harness(stepsOnly(
		reconciler.Finalizer[*Widget]("finalizer", testFinalizer, func(context.Context, *reconciler.State[*Widget]) error { ran = true; return nil }),
		reconciler.Sync("after", func(context.Context, *reconciler.State[*Widget]) error { ran = true; return nil }),
	))
	w := deleting(widget("w", blue))
	w.Finalizers = []string{"someone.else/finalizer"}
	h.RunCase(t, rt.Case[*Widget]{
		Objects:       []client.Object{w},
		Key:           wKey,
		ExpectWrites:  &rt.Calls{},
		ExpectOutcome: reconciler.OutcomeDone,
	})
	if ran {
		t.Fatal("cleanup or a later step ran although our finalizer is absent")
	}
}

func TestFinalizerCleanupWaiting(t *testing.T) {
	h := harness(stepsOnly(
		reconciler.Finalizer[*Widget]("finalizer", testFinalizer, func(context.Context, *reconciler.State[*Widget]) error {
			return reconciler.Waiting(5*time.Second, "DrainingChildren", "waiting for %d children", 3)
		}),
	))
	h.RunCase(t, rt.Case[*Widget]{
		Objects:            []client.Object{deleting(withFinalizer(widget("w", blue)))},
		Key:                wKey,
		ExpectWrites:       &rt.Calls{StatusPatch: 1},
		ExpectOutcome:      reconciler.OutcomeWaiting,
		ExpectRequeueAfter: 5 * time.Second,
	})
}

func TestConflictPolicies(t *testing.T) {
	for _, tc := range []struct {
		action     reconciler.ConflictAction
		applyErr   error
		wantAction reconciler.ChildAction
		wantReason string
		wantWrites rt.Calls
		wantData   string
		wantLabel  string
		liveData   string
	}{
		{action: reconciler.ConflictSkip, wantAction: reconciler.ChildConflict, wantReason: reconciler.ReasonUnmanaged, wantWrites: rt.Calls{StatusPatch: 1}, wantData: "theirs"},
		// Adopting an object whose fields agree with ours: labels added, shared ownership.
		{action: reconciler.ConflictAdopt, liveData: "blue", wantAction: reconciler.ChildUpdated, wantWrites: rt.Calls{Apply: 1, StatusPatch: 1}, wantData: "blue", wantLabel: "w"},
		// Adopting an object whose fields another manager set differently: a real SSA field conflict.
		{action: reconciler.ConflictAdopt, wantAction: reconciler.ChildConflict, wantReason: reconciler.ReasonFieldConflict, wantWrites: rt.Calls{Apply: 1, StatusPatch: 1}, wantData: "theirs"},
		{action: reconciler.ConflictOverwrite, wantAction: reconciler.ChildUpdated, wantWrites: rt.Calls{Apply: 1, StatusPatch: 1}, wantData: "blue", wantLabel: "w"},
		{action: reconciler.ConflictAdopt, applyErr: apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "widget-w", errors.New("field conflict")),
			wantAction: reconciler.ChildConflict, wantReason: reconciler.ReasonFieldConflict, wantWrites: rt.Calls{Apply: 1, StatusPatch: 1}, wantData: "theirs"},
	} {
		if tc.liveData == "" {
			tc.liveData = "theirs"
		}
		t.Run(fmt.Sprintf("%d/%s/%v", tc.action, tc.liveData, tc.applyErr != nil), func(t *testing.T) {
			var asked int
			var forced atomic.Bool
			var report reconciler.ChildReport
			cs := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
				cs.OnConflict = func(ctx context.Context, s *reconciler.State[*Widget], desired, live *corev1.ConfigMap) (reconciler.ConflictAction, string) {
					asked++
					if live.Data["color"] != tc.liveData || desired.Labels[widgetLabel] != "w" {
						t.Errorf("hook got desired=%v live=%v", desired, live)
					}
					return tc.action, ""
				}
			})
			h := harness(controllerWithReport(cs, &report))
			h.RunCase(t, rt.Case[*Widget]{
				Objects: []client.Object{withFinalizer(widget("w", blue, "a")), unmanagedCM("a", map[string]string{"color": tc.liveData})},
				Key:     wKey,
				Funcs: interceptor.Funcs{Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
					ao := &client.ApplyOptions{}
					ao.ApplyOptions(opts)
					forced.Store(ao.Force != nil && *ao.Force)
					if tc.applyErr != nil {
						return tc.applyErr
					}
					return c.Apply(ctx, obj, opts...)
				}},
				ExpectWrites:  &tc.wantWrites,
				ExpectOutcome: reconciler.OutcomeDone,
				Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
					cm := getCM(t, env, "a")
					if cm.Data["color"] != tc.wantData || cm.Labels[widgetLabel] != tc.wantLabel {
						t.Errorf("configmap = %v %v", cm.Labels, cm.Data)
					}
				},
			})
			if asked != 1 {
				t.Errorf("OnConflict asked %d times", asked)
			}
			if got := report.Outcomes[0]; got.Action != tc.wantAction || got.Reason != tc.wantReason {
				t.Errorf("outcome = %+v", got)
			}
			if tc.action == reconciler.ConflictAdopt && forced.Load() {
				t.Error("adopt must not force ownership")
			}
			if tc.action == reconciler.ConflictOverwrite && !forced.Load() {
				t.Error("overwrite must force ownership")
			}
		})
	}
}

func TestPrunePolicies(t *testing.T) {
	for _, tc := range []struct {
		action reconciler.PruneAction
		want   reconciler.ChildAction
		writes rt.Calls
		exists bool
		label  string
	}{
		{reconciler.PruneDelete, reconciler.ChildDeleted, rt.Calls{Delete: 1, StatusPatch: 1}, false, ""},
		{reconciler.PruneOrphan, reconciler.ChildOrphaned, rt.Calls{Patch: 1, StatusPatch: 1}, true, ""},
	} {
		t.Run(string(tc.want), func(t *testing.T) {
			var report reconciler.ChildReport
			cs := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
				cs.Prune = func(context.Context, *reconciler.State[*Widget], *corev1.ConfigMap) reconciler.PruneAction {
					return tc.action
				}
			})
			h := harness(controllerWithReport(cs, &report))
			h.RunCase(t, rt.Case[*Widget]{
				Objects:       []client.Object{withFinalizer(widget("w", blue)), ownedCM("old", blue)},
				Key:           wKey,
				ExpectWrites:  &tc.writes,
				ExpectOutcome: reconciler.OutcomeDone,
				Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
					cm := getCM(t, env, "old")
					if (cm != nil) != tc.exists {
						t.Fatalf("exists = %v", cm != nil)
					}
					if cm != nil && cm.Labels[widgetLabel] != tc.label {
						t.Errorf("labels = %v", cm.Labels)
					}
				},
			})
			if report.Count(tc.want) != 1 {
				t.Errorf("report = %+v", report)
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	failing := func(err error) func() *reconciler.Builder[*Widget] {
		return stepsOnly(reconciler.Sync("step", func(context.Context, *reconciler.State[*Widget]) error { return err }))
	}
	for _, tc := range []struct {
		name    string
		err     error
		outcome reconciler.Outcome
		requeue time.Duration
		conds   []metav1.Condition
		event   string
		obsGen  int64
	}{
		{"done", nil, reconciler.OutcomeDone, 0, []metav1.Condition{readyTrue}, "Normal Succeeded", 1},
		{"terminal", reconciler.Terminal("BadSpec", "spec.x is %s", "wrong"), reconciler.OutcomeTerminal, 0,
			[]metav1.Condition{cond("Ready", "False", "BadSpec", 1), cond("Stalled", "True", "BadSpec", 1)}, "Warning BadSpec spec.x is wrong", 1},
		{"plain terminal error", reconcile.TerminalError(errors.New("boom")), reconciler.OutcomeTerminal, 0,
			[]metav1.Condition{cond("Ready", "False", reconciler.ReasonTerminalError, 1), cond("Stalled", "True", reconciler.ReasonTerminalError, 1)}, "Warning TerminalError", 1},
		{"waiting", reconciler.Waiting(30*time.Second, "SourceMissing", "source %s not found", "x"), reconciler.OutcomeWaiting, 30 * time.Second,
			[]metav1.Condition{cond("Ready", "False", "SourceMissing", 1), cond("Reconciling", "True", "SourceMissing", 1)}, "Normal SourceMissing source x not found", 1},
		{"wrapped waiting", fmt.Errorf("step: %w", reconciler.Waiting(0, "Later", "later")), reconciler.OutcomeWaiting, time.Second,
			[]metav1.Condition{cond("Ready", "False", "Later", 1), cond("Reconciling", "True", "Later", 1)}, "Normal Later", 1},
		{"transient", errors.New("connection refused"), reconciler.OutcomeTransient, 0,
			[]metav1.Condition{cond("Ready", "False", reconciler.ReasonTransientError, 1), cond("Reconciling", "True", reconciler.ReasonTransientError, 1)}, "Warning TransientError connection refused", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			harness(failing(tc.err)).RunCase(t, rt.Case[*Widget]{
				Objects:            []client.Object{widget("w", nil)},
				Key:                wKey,
				ExpectOutcome:      tc.outcome,
				ExpectRequeueAfter: tc.requeue,
				ExpectConditions:   tc.conds,
				ExpectEvents:       []string{tc.event},
				ExpectWrites:       &rt.Calls{StatusPatch: 1},
				Verify: func(t *testing.T, env *rt.Env, w *Widget, res rt.Result) {
					if w.Status.ObservedGeneration != tc.obsGen {
						t.Errorf("observedGeneration = %d, want %d", w.Status.ObservedGeneration, tc.obsGen)
					}
					if res.Result.RequeueAfter > 0 && res.Err != nil {
						t.Error("a Result together with an error")
					}
					if tc.outcome == reconciler.OutcomeTerminal && !errors.Is(res.Err, reconcile.TerminalError(nil)) {
						t.Errorf("terminal error does not wrap reconcile.TerminalError: %v", res.Err)
					}
				},
			})
		})
	}
}

// TestEventsOnTransitionsOnly: a failure repeated does not repeat its event; recovery
// emits one; a change of generation alone rewrites status but emits nothing.
func TestEventsOnTransitionsOnly(t *testing.T) {
	var fail atomic.Bool
	h := harness(stepsOnly(reconciler.Sync("step", func(context.Context, *reconciler.State[*Widget]) error {
		if fail.Load() {
			return errors.New("boom")
		}
		return nil
	})))
	env := h.NewEnv([]client.Object{widget("w", nil)}, interceptor.Funcs{})
	run := func(wantEvents ...string) {
		t.Helper()
		env.Recorder.Reset()
		h.Reconcile(t, env, wKey)
		if d := rt.DiffEvents(env.Recorder.Events(), wantEvents); d != "" {
			t.Error(d)
		}
	}
	fail.Store(true)
	run("Warning TransientError")
	run()
	run()
	fail.Store(false)
	run("Normal Succeeded")
	run()
	w := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, w)
	w.Generation = 7
	_ = env.Fake.Update(context.Background(), w)
	env.Counter.Reset()
	run()
	_ = env.Fake.Get(context.Background(), wKey, w)
	if c := meta.FindStatusCondition(w.Status.Conditions, "Ready"); c.ObservedGeneration != 7 || w.Status.ObservedGeneration != 7 {
		t.Errorf("generation not observed: %+v", w.Status)
	}
	if env.Counter.Calls().StatusPatch != 1 {
		t.Errorf("calls = %s", env.Counter.Calls())
	}
}

func TestNotReadyFactFirstWins(t *testing.T) {
	var gotReason string
	h := harness(stepsOnly(
		reconciler.Sync("one", func(ctx context.Context, s *reconciler.State[*Widget]) error {
			s.NotReady("ConsentMissing", "namespace %s did not consent", "x")
			return nil
		}),
		reconciler.Sync("two", func(ctx context.Context, s *reconciler.State[*Widget]) error {
			s.NotReady("Other", "ignored")
			gotReason, _, _ = s.NotReadyReason()
			s.Eventf("Normal", "Custom", "hello %s", "world")
			return nil
		}),
	))
	h.RunCase(t, rt.Case[*Widget]{
		Objects:          []client.Object{widget("w", nil)},
		Key:              wKey,
		ExpectOutcome:    reconciler.OutcomeDone,
		ExpectConditions: []metav1.Condition{{Type: "Ready", Status: "False", Reason: "ConsentMissing", Message: "namespace x did not consent", ObservedGeneration: 1}},
		ExpectEvents:     []string{"Normal Custom hello world", "Warning ConsentMissing"},
	})
	if gotReason != "ConsentMissing" {
		t.Errorf("NotReadyReason = %q", gotReason)
	}
}

// TestStepsStopAtFirstErrorAllRunEvery: the Builder's steps stop at the first error;
// the steps of an All all run, and it returns the first error.
func TestStepsStopAtFirstErrorAllRunEvery(t *testing.T) {
	var ran []string
	step := func(name string, err error) reconciler.Step[*Widget] {
		return reconciler.Sync(name, func(context.Context, *reconciler.State[*Widget]) error { ran = append(ran, name); return err })
	}
	h := harness(stepsOnly(step("a", nil), reconciler.All(step("b", nil), step("c", errors.New("first")), step("d", errors.New("second"))), step("e", nil)))
	h.RunCase(t, rt.Case[*Widget]{Objects: []client.Object{widget("w", nil)}, Key: wKey,
		ExpectOutcome: reconciler.OutcomeTransient, ExpectErrContains: "first"})
	if strings.Join(ran, "") != "abcd" {
		t.Fatalf("ran %v", ran)
	}
}

// TestStaleCache: a child we created is not yet in the (stale) list; the uncached
// read finds it with our labels, so no conflict and no write.
func TestStaleCache(t *testing.T) {
	empty := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
		cs.Lister = func(s *reconciler.State[*Widget]) client.Reader { return emptyLister{} }
	})
	harness(controllerWith(empty)).RunCase(t, rt.Case[*Widget]{
		Objects:       []client.Object{withFinalizer(widget("w", blue, "a")), ownedCM("a", blue)},
		Key:           wKey,
		ExpectWrites:  &rt.Calls{StatusPatch: 1},
		ExpectOutcome: reconciler.OutcomeDone,
		Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
			if w.Status.Synced != 1 {
				t.Errorf("synced = %d", w.Status.Synced)
			}
		},
	})
	// Stale and drifted: re-applied.
	harness(controllerWith(empty)).RunCase(t, rt.Case[*Widget]{
		Objects:      []client.Object{withFinalizer(widget("w", blue, "a")), ownedCM("a", map[string]string{"color": "red"})},
		Key:          wKey,
		ExpectWrites: &rt.Calls{Apply: 1, StatusPatch: 1},
	})
}

type emptyLister struct{}

func (emptyLister) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("unused")
}
func (emptyLister) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func TestChildSetInvalid(t *testing.T) {
	for name, mut := range map[string]func(*reconciler.ChildSet[*Widget, *corev1.ConfigMap]){
		"no labels": func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.Labels = func(*Widget) map[string]string { return nil }
		},
		"duplicate": func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.Desired = func(context.Context, *reconciler.State[*Widget]) ([]*corev1.ConfigMap, error) {
				return []*corev1.ConfigMap{ownedCM("a", nil), ownedCM("a", nil)}, nil
			}
		},
		"no name": func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.Desired = func(context.Context, *reconciler.State[*Widget]) ([]*corev1.ConfigMap, error) {
				return []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{GenerateName: "x-"}}}, nil
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			harness(stepsOnly(configMapSet(mut).Step())).RunCase(t, rt.Case[*Widget]{
				Objects:       []client.Object{widget("w", nil, "a")},
				Key:           wKey,
				ExpectOutcome: reconciler.OutcomeTerminal,
				ExpectWrites:  &rt.Calls{StatusPatch: 1},
			})
		})
	}
	// A malformed declaration is refused once, when the controller is built.
	for name, tc := range map[string]struct {
		mut  func(*reconciler.ChildSet[*Widget, *corev1.ConfigMap])
		want string
	}{
		"no name":         {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Name = "" }, "needs a Name"},
		"no Labels":       {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Labels = nil }, "needs Labels and Desired"},
		"no Desired":      {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Desired = nil }, "needs Labels and Desired"},
		"missing NewList": {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.NewList = nil }, "exactly one of NewList and Kinds"},
		"NewList and Kinds": {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.Kinds = func(context.Context, *reconciler.State[*Widget]) ([]schema.GroupVersionKind, error) { return nil, nil }
		}, "exactly one of NewList and Kinds"},
		"Kinds of typed children": {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.NewList = nil
			cs.Kinds = func(context.Context, *reconciler.State[*Widget]) ([]schema.GroupVersionKind, error) { return nil, nil }
		}, "Kinds needs *unstructured.Unstructured children"},
		"negative Parallelism":        {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Parallelism = -1 }, "negative Parallelism"},
		"ContentDigest without Exact": {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Exact, cs.ContentDigest = false, "d" }, "ContentDigest needs Exact"},
		"ContentDigest on the HashAnnotation": {func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.Exact, cs.HashAnnotation, cs.ContentDigest = true, "h", "h"
		}, "ContentDigest and HashAnnotation must be different keys"},
	} {
		t.Run(name, func(t *testing.T) {
			// Inside All too: every step is checked, however deep.
			_, err := reconciler.For("widget", func() *Widget { return &Widget{} }).
				Steps(reconciler.All(configMapSet(tc.mut).Step())).BuildWith(rt.NewEnv(newScheme(), rt.Options{}).Deps())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("BuildWith = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := reconciler.For("widget", func() *Widget { return &Widget{} }).Steps(nil).BuildWith(rt.NewEnv(newScheme(), rt.Options{}).Deps()); err == nil {
		t.Fatal("a nil step was accepted")
	}
	// Desired and List errors are returned as they are.
	harness(stepsOnly(configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
		cs.Desired = func(context.Context, *reconciler.State[*Widget]) ([]*corev1.ConfigMap, error) {
			return nil, reconciler.Waiting(time.Minute, "SourceMissing", "no source")
		}
	}).Step())).RunCase(t, rt.Case[*Widget]{Objects: []client.Object{widget("w", nil, "a")}, Key: wKey, ExpectOutcome: reconciler.OutcomeWaiting})
	harness(stepsOnly(configMapSet().Step())).RunCase(t, rt.Case[*Widget]{
		Objects: []client.Object{widget("w", nil, "a")}, Key: wKey, ExpectOutcome: reconciler.OutcomeTransient,
		Funcs: interceptor.Funcs{List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("list failed")
		}},
		ExpectErrContains: "listing children of configmaps",
	})
}

// TestParallelismBounded: many children, at most Parallelism writes in flight.
func TestParallelismBounded(t *testing.T) {
	var inflight, peak atomic.Int32
	cs := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Parallelism = 3 })
	var nss []string
	for i := 0; i < 30; i++ {
		nss = append(nss, fmt.Sprintf("ns-%02d", i))
	}
	harness(stepsOnly(cs.Step())).RunCase(t, rt.Case[*Widget]{
		Objects: []client.Object{widget("w", blue, nss...)},
		Key:     wKey,
		Funcs: interceptor.Funcs{Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			n := inflight.Add(1)
			defer inflight.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			return c.Apply(ctx, obj, opts...)
		}},
		ExpectWrites:  &rt.Calls{Apply: 30, StatusPatch: 1},
		ExpectOutcome: reconciler.OutcomeDone,
	})
	if p := peak.Load(); p > 3 || p < 2 {
		t.Fatalf("peak concurrency = %d, want 2..3", p)
	}
}

func TestReportHelpers(t *testing.T) {
	r := reconciler.ChildReport{Desired: 3, Outcomes: []reconciler.ChildOutcome{
		{Key: types.NamespacedName{Namespace: "a", Name: "x"}, Action: reconciler.ChildCreated},
		{Key: types.NamespacedName{Namespace: "b", Name: "x"}, Action: reconciler.ChildFailed},
		{Key: types.NamespacedName{Namespace: "c", Name: "x"}, Action: reconciler.ChildConflict},
	}}
	if r.Count(reconciler.ChildCreated) != 1 || len(r.Failed()) != 1 || len(r.Conflicts()) != 1 || r.Synced() != 1 {
		t.Fatalf("helpers wrong: %+v", r)
	}
}

func TestBuildWithValidation(t *testing.T) {
	if _, err := reconciler.For[*Widget]("", func() *Widget { return &Widget{} }).BuildWith(reconciler.Deps{}); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := reconciler.For[*Widget]("w", nil).BuildWith(reconciler.Deps{}); err == nil {
		t.Error("nil newObj accepted")
	}
	if _, err := reconciler.For("w", func() *Widget { return &Widget{} }).BuildWith(reconciler.Deps{}); err == nil {
		t.Error("nil client accepted")
	}
}

func TestLabelMapper(t *testing.T) {
	cm := ownedCM("a", nil)
	if got := reconciler.LabelMapper(widgetLabel, false)(context.Background(), cm); len(got) != 1 || got[0].NamespacedName != (types.NamespacedName{Name: "w"}) {
		t.Errorf("cluster-scoped: %v", got)
	}
	if got := reconciler.LabelMapper(widgetLabel, true)(context.Background(), cm); len(got) != 1 || got[0].NamespacedName != (types.NamespacedName{Namespace: "a", Name: "w"}) {
		t.Errorf("namespaced: %v", got)
	}
	if got := reconciler.LabelMapper("other", true)(context.Background(), cm); got != nil {
		t.Errorf("unlabelled: %v", got)
	}
}

func TestClassify(t *testing.T) {
	for err, want := range map[error]reconciler.Outcome{
		nil:                           reconciler.OutcomeDone,
		errors.New("x"):               reconciler.OutcomeTransient,
		reconciler.Terminal("R", "m"): reconciler.OutcomeTerminal,
		fmt.Errorf("w: %w", reconciler.Terminal("R", "m")): reconciler.OutcomeTerminal,
		reconciler.Waiting(time.Second, "R", "m"):          reconciler.OutcomeWaiting,
		reconcile.TerminalError(errors.New("x")):           reconciler.OutcomeTerminal,
	} {
		if got := reconciler.Classify(err); got != want {
			t.Errorf("Classify(%v) = %s, want %s", err, got, want)
		}
	}
	if s := reconciler.Waiting(time.Second, "R", "m %d", 1).Error(); !strings.Contains(s, "m 1") {
		t.Error(s)
	}
	if s := reconciler.Terminal("R", "m %d", 2).Error(); !strings.Contains(s, "R: m 2") {
		t.Error(s)
	}
}

// TestGoneRunsOnlyForAMissingPrimary: the Gone hook is how a controller drops what
// it keeps per primary; it must run when the primary is gone and never for one
// that exists.
func TestGoneRunsOnlyForAMissingPrimary(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(newScheme()).WithObjects(widget("here", nil)).
		WithStatusSubresource(&Widget{}).Build()
	var gone []types.NamespacedName
	r, err := reconciler.For("widget", func() *Widget { return &Widget{} }).
		Gone(func(_ context.Context, key types.NamespacedName) { gone = append(gone, key) }).
		BuildWith(reconciler.Deps{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"here", "deleted"} {
		if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Name: name}}); err != nil {
			t.Fatalf("reconcile %s: %v", name, err)
		}
	}
	if want := []types.NamespacedName{{Name: "deleted"}}; fmt.Sprint(gone) != fmt.Sprint(want) {
		t.Errorf("Gone ran for %v, want %v", gone, want)
	}
}

// TestChildSetNamespacesListsOnlyThere: with Namespaces, children are listed in
// each of those namespaces and never across all of them (a namespaced install has
// no right to), so an owned child elsewhere is neither seen nor pruned.
func TestChildSetNamespacesListsOnlyThere(t *testing.T) {
	var listed []string
	cs := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) { cs.Namespaces = []string{"a", "b"} })
	harness(stepsOnly(cs.Step())).RunCase(t, rt.Case[*Widget]{
		Objects: []client.Object{widget("w", blue, "a"), ownedCM("b", blue), ownedCM("elsewhere", blue)},
		Key:     wKey,
		Funcs: interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			listed = append(listed, (&client.ListOptions{}).ApplyOptions(opts).Namespace)
			return c.List(ctx, list, opts...)
		}},
		// Created in a, pruned in b; the one elsewhere is not touched.
		ExpectWrites: &rt.Calls{Apply: 1, Delete: 1, StatusPatch: 1},
		Verify: func(t *testing.T, env *rt.Env, _ *Widget, _ rt.Result) {
			if fmt.Sprint(listed) != "[a b]" {
				t.Errorf("listed children in %q, want [a b]", listed)
			}
			var cm corev1.ConfigMap
			if err := env.Fake.Get(context.Background(), types.NamespacedName{Namespace: "elsewhere", Name: "widget-w"}, &cm); err != nil {
				t.Errorf("the owned child outside Namespaces: %v", err)
			}
		},
	})
}
