package reconciler_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

func exactSet() reconciler.ChildSet[*Widget, *corev1.ConfigMap] {
	return configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
		cs.Exact = true
	})
}

// tampered is an owned child someone edited by hand: an extra data key, label and
// annotation, a reserved-domain label, and another controller's finalizer.
func tampered(ns string, data map[string]string) *corev1.ConfigMap {
	cm := ownedCM(ns, data)
	cm.Data["added"] = "by hand"
	cm.Labels["added"] = "by-hand"
	cm.Labels["kubernetes.io/reserved"] = "kept"
	cm.Annotations = map[string]string{"added": "by hand"}
	cm.Finalizers = []string{"example.com/other"}
	return cm
}

// TestChildSetExactRepairs: fields another manager added to an owned child are
// removed with exactly one Update (no apply), then the steady state writes nothing.
func TestChildSetExactRepairs(t *testing.T) {
	h := harness(controllerWith(exactSet()))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", map[string]string{"color": "blue"}, "a")),
		tampered("a", map[string]string{"color": "blue"})}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil || r.Outcome != reconciler.OutcomeDone {
		t.Fatalf("reconcile: %v", r.Err)
	}
	if c := env.Counter.Calls().WritesOnly(); c != (rt.Calls{Update: 1, StatusPatch: 1}) {
		t.Fatalf("repair writes: %s", c)
	}
	cm := getCM(t, env, "a")
	if len(cm.Data) != 1 || cm.Data["color"] != "blue" {
		t.Errorf("data = %v", cm.Data)
	}
	if want := map[string]string{widgetLabel: "w", "kubernetes.io/reserved": "kept"}; !equalMaps(cm.Labels, want) {
		t.Errorf("labels = %v, want %v", cm.Labels, want)
	}
	if len(cm.Annotations) != 0 {
		t.Errorf("annotations = %v", cm.Annotations)
	}
	if len(cm.Finalizers) != 1 || cm.Finalizers[0] != "example.com/other" {
		t.Errorf("finalizers = %v (lifecycle metadata must be kept)", cm.Finalizers)
	}

	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("not steady after repair: %v %s", r.Err, env.Counter.Calls())
	}

	// A desired change on a tampered child: still one write, an Update.
	if err := env.Fake.Update(context.Background(), tamperedOver(getCM(t, env, "a"))); err != nil {
		t.Fatal(err)
	}
	w := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, w)
	w.Spec.Data = map[string]string{"color": "red"}
	if err := env.Fake.Update(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	if c := env.Counter.Calls(); c.Update != 1 || c.Apply != 0 {
		t.Fatalf("change + tamper: %s", c)
	}
	if cm := getCM(t, env, "a"); len(cm.Data) != 1 || cm.Data["color"] != "red" {
		t.Errorf("data = %v", cm.Data)
	}
}

func tamperedOver(cm *corev1.ConfigMap) *corev1.ConfigMap {
	cm.Data["added"] = "again"
	return cm
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestChildSetExactCreatesWithOnePost: an absent child of an Exact set is created
// with one Create (POST), under FieldOwner: no read of it, no apply.
func TestChildSetExactCreatesWithOnePost(t *testing.T) {
	var (
		mu     sync.Mutex // children are created in parallel
		owners []string
	)
	funcs := interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
		co := &client.CreateOptions{}
		co.ApplyOptions(opts)
		mu.Lock()
		owners = append(owners, co.FieldManager)
		mu.Unlock()
		return c.Create(ctx, obj, opts...)
	}}
	h := harness(controllerWith(exactSet()))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a", "b", "c"))}, funcs)
	if r := h.Reconcile(t, env, wKey); r.Err != nil || r.Outcome != reconciler.OutcomeDone {
		t.Fatalf("reconcile: %v", r.Err)
	}
	// The one Get is the primary's.
	if c := env.Counter.Calls(); c != (rt.Calls{Get: 1, List: 1, Create: 3, StatusPatch: 1}) {
		t.Fatalf("calls: %s", c)
	}
	if len(owners) != 3 || owners[0] != "courier" || owners[1] != "courier" || owners[2] != "courier" {
		t.Errorf("field managers of the creates = %v", owners)
	}
	for _, ns := range []string{"a", "b", "c"} {
		cm := getCM(t, env, ns)
		if cm == nil || !equalMaps(cm.Data, blue) || !equalMaps(cm.Labels, map[string]string{widgetLabel: "w"}) {
			t.Errorf("configmap in %s = %+v", ns, cm)
		}
	}
	w := &Widget{}
	_ = env.Fake.Get(context.Background(), wKey, w)
	if w.Status.Synced != 3 {
		t.Errorf("synced = %d", w.Status.Synced)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("not steady after create: %v %s", r.Err, env.Counter.Calls())
	}
}

// TestChildSetExactCreateFindsObject: when the POST finds the name taken, the object
// is read and handled as before: an unmanaged one by OnConflict (skip leaves it
// alone, adopt and overwrite apply), an owned one the list did not show is repaired.
func TestChildSetExactCreateFindsObject(t *testing.T) {
	stale := func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
		cs.Lister = func(s *reconciler.State[*Widget]) client.Reader { return emptyLister{} }
	}
	for _, tc := range []struct {
		name       string
		live       *corev1.ConfigMap
		mut        func(*reconciler.ChildSet[*Widget, *corev1.ConfigMap])
		action     reconciler.ConflictAction
		wantCalls  rt.Calls
		wantAction reconciler.ChildAction
		wantReason string
		wantData   string
		wantLabel  string
	}{
		{name: "unmanaged, skip", live: unmanagedCM("a", map[string]string{"color": "theirs"}), action: reconciler.ConflictSkip,
			wantCalls:  rt.Calls{Get: 2, List: 1, Create: 1, StatusPatch: 1},
			wantAction: reconciler.ChildConflict, wantReason: reconciler.ReasonUnmanaged, wantData: "theirs"},
		{name: "unmanaged, adopt", live: unmanagedCM("a", blue), action: reconciler.ConflictAdopt,
			wantCalls:  rt.Calls{Get: 2, List: 1, Create: 1, Apply: 1, StatusPatch: 1},
			wantAction: reconciler.ChildUpdated, wantData: "blue", wantLabel: "w"},
		{name: "unmanaged, overwrite", live: unmanagedCM("a", map[string]string{"color": "theirs"}), action: reconciler.ConflictOverwrite,
			wantCalls:  rt.Calls{Get: 2, List: 1, Create: 1, Apply: 1, StatusPatch: 1},
			wantAction: reconciler.ChildUpdated, wantData: "blue", wantLabel: "w"},
		// (The stale lister's List is not counted.)
		{name: "owned, not listed yet", live: ownedCM("a", blue), mut: stale,
			wantCalls:  rt.Calls{Get: 2, Create: 1, StatusPatch: 1},
			wantAction: reconciler.ChildUnchanged, wantData: "blue", wantLabel: "w"},
		{name: "owned, not listed yet, drifted", live: tampered("a", map[string]string{"color": "blue"}), mut: stale,
			wantCalls:  rt.Calls{Get: 2, Create: 1, Update: 1, StatusPatch: 1},
			wantAction: reconciler.ChildUpdated, wantData: "blue", wantLabel: "w"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var report reconciler.ChildReport
			asked := 0
			cs := exactSet()
			cs.OnConflict = func(ctx context.Context, s *reconciler.State[*Widget], desired, live *corev1.ConfigMap) (reconciler.ConflictAction, string) {
				asked++
				return tc.action, ""
			}
			if tc.mut != nil {
				tc.mut(&cs)
			}
			h := harness(controllerWithReport(cs, &report))
			env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a")), tc.live}, interceptor.Funcs{})
			before := getCM(t, env, "a")
			if r := h.Reconcile(t, env, wKey); r.Err != nil {
				t.Fatal(r.Err)
			}
			if c := env.Counter.Calls(); c != tc.wantCalls {
				t.Errorf("calls:\n got  %s\n want %s", c, tc.wantCalls)
			}
			if got := report.Outcomes[0]; got.Action != tc.wantAction || got.Reason != tc.wantReason {
				t.Errorf("outcome = %+v", got)
			}
			wantAsked := 1
			if tc.mut != nil {
				wantAsked = 0
			}
			if asked != wantAsked {
				t.Errorf("OnConflict asked %d times, want %d", asked, wantAsked)
			}
			cm := getCM(t, env, "a")
			if cm.Data["color"] != tc.wantData || cm.Labels[widgetLabel] != tc.wantLabel {
				t.Errorf("configmap = %v %v", cm.Labels, cm.Data)
			}
			if tc.wantCalls.Writes() == 1 && cm.ResourceVersion != before.ResourceVersion {
				t.Errorf("object written: resourceVersion %s -> %s", before.ResourceVersion, cm.ResourceVersion)
			}
		})
	}
}

// TestChildSetExactCreateFailures: a failed POST is a failed child (transient, or
// permanent for an invalid object), and a name found taken by a POST but gone when
// read (a concurrent delete) is a transient failure, never an apply.
func TestChildSetExactCreateFailures(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	createErr := func(err error) interceptor.Funcs {
		return interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error { return err }}
	}
	harness(controllerWith(exactSet())).RunCase(t, rt.Case[*Widget]{
		Objects:           []client.Object{withFinalizer(widget("w", blue, "a"))},
		Funcs:             createErr(apierrors.NewServiceUnavailable("try later")),
		Key:               wKey,
		ExpectWrites:      &rt.Calls{Create: 1, StatusPatch: 1},
		ExpectOutcome:     reconciler.OutcomeTransient,
		ExpectErrContains: "try later",
	})
	harness(controllerWith(exactSet())).RunCase(t, rt.Case[*Widget]{
		Objects:       []client.Object{withFinalizer(widget("w", blue, "a"))},
		Funcs:         createErr(apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "widget-w", nil)),
		Key:           wKey,
		ExpectWrites:  &rt.Calls{Create: 1, StatusPatch: 1},
		ExpectOutcome: reconciler.OutcomeDone,
		ExpectConditions: []metav1.Condition{
			cond(reconciler.ConditionReady, metav1.ConditionFalse, reconciler.ReasonChildFailed, 1),
		},
	})
	harness(controllerWith(exactSet())).RunCase(t, rt.Case[*Widget]{
		Objects:           []client.Object{withFinalizer(widget("w", blue, "a"))},
		Funcs:             createErr(apierrors.NewAlreadyExists(gr, "widget-w")),
		Key:               wKey,
		ExpectWrites:      &rt.Calls{Create: 1, StatusPatch: 1},
		ExpectOutcome:     reconciler.OutcomeTransient,
		ExpectErrContains: "deleted while being created",
	})
}

// TestChildSetExactConflictIsTransient: an Update conflict (stale cache) is retried.
func TestChildSetExactConflictIsTransient(t *testing.T) {
	funcs := interceptor.Funcs{Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
		return apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, obj.GetName(), nil)
	}}
	harness(controllerWith(exactSet())).RunCase(t, rt.Case[*Widget]{
		Objects:       []client.Object{withFinalizer(widget("w", blue, "a")), tampered("a", map[string]string{"color": "blue"})},
		Funcs:         funcs,
		Key:           wKey,
		ExpectOutcome: reconciler.OutcomeTransient,
		Verify: func(t *testing.T, env *rt.Env, w *Widget, _ rt.Result) {
			if cm := getCM(t, env, "a"); cm.Data["added"] != "by hand" {
				t.Errorf("conflicting update was applied: %v", cm.Data)
			}
		},
	})
}

// TestChildSetWithoutExactKeepsExtras: the default (superset) mode leaves fields
// another manager added, and writes nothing.
func TestChildSetWithoutExactKeepsExtras(t *testing.T) {
	harness(controllerWith(configMapSet())).RunCase(t, rt.Case[*Widget]{
		Objects:      []client.Object{withFinalizer(widget("w", blue, "a")), tampered("a", map[string]string{"color": "blue"})},
		Key:          wKey,
		ExpectWrites: &rt.Calls{StatusPatch: 1},
	})
}

// TestChildSetExactUnstructured: Exact works for unstructured children too (repair
// and create).
func TestChildSetExactUnstructured(t *testing.T) {
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	cs := reconciler.ChildSet[*Widget, *unstructured.Unstructured]{
		Name: "u", FieldOwner: "courier",
		NewList: func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind("ConfigMapList"))
			return l
		},
		Labels: func(w *Widget) map[string]string { return map[string]string{widgetLabel: w.Name} },
		Desired: func(ctx context.Context, s *reconciler.State[*Widget]) ([]*unstructured.Unstructured, error) {
			var out []*unstructured.Unstructured
			for _, ns := range []string{"a", "b"} {
				u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"color": "blue"}}}
				u.SetGroupVersionKind(gvk)
				u.SetNamespace(ns)
				u.SetName("widget-w")
				out = append(out, u)
			}
			return out, nil
		},
		Exact: true,
	}
	build := func() *reconciler.Builder[*Widget] {
		return reconciler.For("widget", func() *Widget { return &Widget{} }).Steps(cs.Step())
	}
	h := harness(build)
	env := h.NewEnv([]client.Object{widget("w", blue, "a"), tampered("a", map[string]string{"color": "blue"})}, interceptor.Funcs{})
	if r := h.Reconcile(t, env, wKey); r.Err != nil {
		t.Fatal(r.Err)
	}
	// "a" is repaired with an Update, "b" created with a Create.
	if c := env.Counter.Calls(); c.Update != 1 || c.Create != 1 || c.Apply != 0 {
		t.Fatalf("writes: %s", c)
	}
	if cm := getCM(t, env, "a"); len(cm.Data) != 1 || cm.Labels["added"] != "" {
		t.Errorf("not repaired: %v %v", cm.Data, cm.Labels)
	}
	if cm := getCM(t, env, "b"); cm == nil || !equalMaps(cm.Data, blue) || cm.Labels[widgetLabel] != "w" {
		t.Errorf("not created: %+v", cm)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 0 {
		t.Fatalf("not steady: %v %s", r.Err, env.Counter.Calls())
	}
}

func TestExtraField(t *testing.T) {
	d := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "1"}}, Data: map[string]string{"k": "v"}}
	cases := map[string]struct {
		mut  func(*corev1.ConfigMap)
		want string
	}{
		"equal":            {func(*corev1.ConfigMap) {}, ""},
		"server metadata":  {func(c *corev1.ConfigMap) { c.UID, c.ResourceVersion, c.Finalizers = "u", "7", []string{"f"} }, ""},
		"reserved label":   {func(c *corev1.ConfigMap) { c.Labels["app.kubernetes.io/x"] = "y" }, ""},
		"reserved annot":   {func(c *corev1.ConfigMap) { c.Annotations = map[string]string{"kubectl.kubernetes.io/x": "y"} }, ""},
		"extra data key":   {func(c *corev1.ConfigMap) { c.Data["added"] = "x" }, ".data.added"},
		"extra binary":     {func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} }, ".binaryData"},
		"extra label":      {func(c *corev1.ConfigMap) { c.Labels["b"] = "2" }, ".metadata.labels.b"},
		"lookalike domain": {func(c *corev1.ConfigMap) { c.Labels["notkubernetes.io/x"] = "y" }, ".metadata.labels.notkubernetes.io/x"},
		"extra annotation": {func(c *corev1.ConfigMap) { c.Annotations = map[string]string{"n": "x"} }, ".metadata.annotations"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := d.DeepCopy()
			tc.mut(l)
			if got := reconciler.ExtraField(d, l); got != tc.want {
				t.Errorf("ExtraField = %q, want %q", got, tc.want)
			}
			if reconciler.IsExact(d, l) != (tc.want == "") {
				t.Error("IsExact disagrees with ExtraField")
			}
		})
	}
}

// staleLister is a cache that has not shown any child yet.
type staleLister struct{}

func (staleLister) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "")
}

func (staleLister) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

// TestChildSetExactStaleCacheAfterCreate: a reconcile that runs before the cache shows
// the children the previous reconcile created (their create events enqueue the
// primary at once) reads them instead of POSTing again; a child deleted meanwhile is
// created again. Once the cache shows them, nothing is read.
func TestChildSetExactStaleCacheAfterCreate(t *testing.T) {
	stale := true
	cs := exactSet()
	cs.Lister = func(s *reconciler.State[*Widget]) client.Reader {
		if stale {
			return staleLister{}
		}
		return s.Client
	}
	h := harness(controllerWith(cs))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a", "b"))}, interceptor.Funcs{})
	r, err := h.Controller().BuildWith(env.Deps())
	if err != nil {
		t.Fatal(err)
	}
	run := func() {
		t.Helper()
		env.Counter.Reset()
		if _, err := r.Reconcile(context.Background(), ctrlreconcile.Request{NamespacedName: wKey}); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
	}
	run()
	if c := env.Counter.Calls(); c.Create != 2 {
		t.Fatalf("first reconcile: %s", c)
	}
	run()
	if c := env.Counter.Calls(); c != (rt.Calls{Get: 3}) {
		t.Fatalf("stale cache after our creates: %s, want the primary's and one GET per child, no write", c)
	}
	if err := env.Fake.Delete(context.Background(), getCM(t, env, "b")); err != nil {
		t.Fatal(err)
	}
	run()
	if c := env.Counter.Calls(); c != (rt.Calls{Get: 3, Create: 1}) {
		t.Fatalf("child deleted before the cache showed it: %s, want it read and created again", c)
	}
	if getCM(t, env, "b") == nil {
		t.Fatal("the deleted child was not created again")
	}
	stale = false
	run()
	if c := env.Counter.Calls(); c != (rt.Calls{Get: 1, List: 1}) {
		t.Fatalf("cache caught up: %s, want the primary's GET and the LIST only", c)
	}
}

// TestChildSetExactRemembersItsWrites: a child whose resourceVersion is the one our
// last write produced, with the desired hash, is not compared again; a child
// changed since is; a new reconciler (a restart) compares everything once.
func TestChildSetExactRemembersItsWrites(t *testing.T) {
	var counted atomic.Int32 // the compares run in the parallel child tasks
	defer reconciler.CountExactChecks(func() { counted.Add(1) })()
	cs := exactSet()
	cs.HashAnnotation = "test.courier.dev/hash"
	h := harness(controllerWith(cs))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", blue, "a", "b"))}, interceptor.Funcs{})
	build := func() func() rt.Calls {
		r, err := h.Controller().BuildWith(env.Deps())
		if err != nil {
			t.Fatal(err)
		}
		return func() rt.Calls {
			t.Helper()
			env.Counter.Reset()
			counted.Store(0)
			if _, err := r.Reconcile(context.Background(), ctrlreconcile.Request{NamespacedName: wKey}); err != nil {
				t.Fatalf("reconcile: %v", err)
			}
			return env.Counter.Calls()
		}
	}
	run := build()
	if c := run(); c.Create != 2 {
		t.Fatalf("first reconcile: %s", c)
	}
	if c := run(); c.Writes() != 0 || counted.Load() != 0 {
		t.Fatalf("children as our creates left them: %s, %d compares; want no write and no compare", c, counted.Load())
	}
	a := getCM(t, env, "a")
	a.Data["added"] = "by hand"
	if err := env.Fake.Update(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if c := run(); c.Update != 1 || c.Writes() != 1 || counted.Load() != 1 {
		// The hand edit kept the hash but moved the resourceVersion: a is compared
		// (and repaired), b is still ours.
		t.Fatalf("one child edited by hand: %s, %d compares; want one update and a's compare only", c, counted.Load())
	}
	if got := getCM(t, env, "a"); got.Data["added"] != "" {
		t.Fatalf("the added key stayed: %v", got.Data)
	}
	if c := run(); c.Writes() != 0 || counted.Load() != 0 {
		t.Fatalf("after the repair: %s, %d compares; want none", c, counted.Load())
	}
	restarted := build()
	if c := restarted(); c.Writes() != 0 || counted.Load() != 2 {
		t.Fatalf("a new reconciler: %s, %d compares; want 2 compares and no write", c, counted.Load())
	}
}

// behindLister lists what a cache showed before its watch broke.
type behindLister struct{ items []corev1.ConfigMap }

func (l behindLister) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	panic("children are only listed")
}

func (l behindLister) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	list.(*corev1.ConfigMapList).Items = append([]corev1.ConfigMap(nil), l.items...)
	return nil
}

// TestChildSetExactStaleCache: a replace made from a cache that is behind meets a
// conflict; the child is read live and written once more in the same reconcile,
// instead of failing until the cache catches up (faults_test.go in
// test/reliability saw hundreds of such conflicts after each broken watch).
func TestChildSetExactStaleCache(t *testing.T) {
	ctx := context.Background()
	var stale behindLister
	cs := exactSet()
	cs.Lister = func(*reconciler.State[*Widget]) client.Reader { return stale }
	h := harness(controllerWith(cs))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", map[string]string{"color": "blue"}, "a")),
		ownedCM("a", map[string]string{"color": "blue"})}, interceptor.Funcs{})
	stale.items = []corev1.ConfigMap{*getCM(t, env, "a")}

	// Since the cache last saw it, the child was written again (by a repair the
	// cache missed), and the desired state changed.
	cm := getCM(t, env, "a")
	cm.Annotations = map[string]string{"written": "since"}
	if err := env.Fake.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	w := &Widget{}
	_ = env.Fake.Get(ctx, wKey, w)
	w.Spec.Data = map[string]string{"color": "red"}
	if err := env.Fake.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || r.Outcome != reconciler.OutcomeDone {
		t.Fatalf("reconcile from a stale cache: %v (%v)", r.Err, r.Outcome)
	}
	if c := env.Counter.Calls().WritesOnly(); c != (rt.Calls{Update: 2, StatusPatch: 1}) {
		t.Fatalf("writes = %s, want the conflicting Update and one more", c)
	}
	got := getCM(t, env, "a")
	if got.Data["color"] != "red" || len(got.Annotations) != 0 {
		t.Fatalf("child = %v %v, want the desired state", got.Data, got.Annotations)
	}

	// Written live, and the cache still behind: the next repair is read live again
	// and finds nothing to do.
	stale.items = []corev1.ConfigMap{*cm}
	env.Counter.Reset()
	if r := h.Reconcile(t, env, wKey); r.Err != nil || env.Counter.Calls().Writes() != 1 {
		t.Fatalf("after the live repair: %v %s, want the one conflicting Update", r.Err, env.Counter.Calls())
	}
}

// TestChildSetExactCacheBehindOwnWrite: while the cache still shows the version our
// last replace wrote over, for the same desired state, nothing is written (a replace
// from it could only meet a conflict); once it shows anything else, repairs run.
func TestChildSetExactCacheBehindOwnWrite(t *testing.T) {
	ctx := context.Background()
	const hashKey = "test.courier.dev/desired-hash"
	var frozen *behindLister
	cs := exactSet()
	cs.HashAnnotation = hashKey
	cs.Lister = func(s *reconciler.State[*Widget]) client.Reader {
		if frozen != nil {
			return *frozen
		}
		return s.Client
	}
	h := harness(controllerWith(cs))
	env := h.NewEnv([]client.Object{withFinalizer(widget("w", map[string]string{"color": "blue"}, "a"))}, interceptor.Funcs{})
	r, err := h.Controller().BuildWith(env.Deps())
	if err != nil {
		t.Fatal(err)
	}
	reconcileOnce := func(what string) rt.Calls {
		t.Helper()
		env.Counter.Reset()
		if _, err := r.Reconcile(ctx, ctrlreconcile.Request{NamespacedName: wKey}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return env.Counter.Calls().WritesOnly()
	}
	reconcileOnce("create")
	// The cache stops here: it shows the child as created.
	frozen = &behindLister{items: []corev1.ConfigMap{*getCM(t, env, "a")}}

	w := &Widget{}
	_ = env.Fake.Get(ctx, wKey, w)
	w.Spec.Data = map[string]string{"color": "red"}
	if err := env.Fake.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	if c := reconcileOnce("desired change"); c.Update != 1 {
		t.Fatalf("desired change: %s, want one Update", c)
	}
	if c := reconcileOnce("cache behind our write"); c.Writes() != 0 {
		t.Fatalf("cache behind our own write: %s, want no write (and no conflict)", c)
	}

	// Someone else writes over ours, and the cache shows that: repaired.
	cm := getCM(t, env, "a")
	cm.Data["color"] = "green"
	if err := env.Fake.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	frozen = &behindLister{items: []corev1.ConfigMap{*getCM(t, env, "a")}}
	if c := reconcileOnce("foreign edit"); c.Update != 1 {
		t.Fatalf("foreign edit: %s, want one repair", c)
	}
	if got := getCM(t, env, "a").Data["color"]; got != "red" {
		t.Fatalf("color = %q after the repair", got)
	}
}
