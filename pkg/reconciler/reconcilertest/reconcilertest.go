// Package reconcilertest is a table-driven test kit for controllers written with
// package reconciler.
//
// It runs one reconcile against controller-runtime's fake client (with the status
// subresource enabled for the primary and optional interceptor functions for injected
// failures), counts the client calls by verb, records events, and checks the writes,
// conditions, events and outcome a case expects:
//
//	h := reconcilertest.Harness[*Widget]{Scheme: scheme, NewObj: newWidget, Controller: widgetController}
//	h.Run(t, []reconcilertest.Case[*Widget]{{
//		Name:         "creates one ConfigMap per namespace",
//		Objects:      []client.Object{widget("w", "a", "b")},
//		Key:          types.NamespacedName{Name: "w"},
//		ExpectWrites: &reconcilertest.Calls{Apply: 2, Patch: 1, StatusPatch: 1},
//		ExpectOutcome: reconciler.OutcomeDone,
//	}})
//
// The fake client implements server-side apply through a field-managed object
// tracker; it does not default fields the way an API server does, which is why the
// reconciler package also has an envtest suite.
package reconcilertest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// Calls counts client calls by verb. Status* count calls on the status subresource.
type Calls struct {
	Get, List                              int
	Create, Update, Patch, Apply, Delete   int
	StatusUpdate, StatusPatch, StatusApply int
}

// Writes returns the number of write calls (everything but Get and List).
func (c Calls) Writes() int {
	return c.Create + c.Update + c.Patch + c.Apply + c.Delete + c.StatusUpdate + c.StatusPatch + c.StatusApply
}

// WritesOnly returns c with the read counters zeroed.
func (c Calls) WritesOnly() Calls {
	c.Get, c.List = 0, 0
	return c
}

// String lists every counter, for test failure messages.
func (c Calls) String() string {
	return fmt.Sprintf("get=%d list=%d create=%d update=%d patch=%d apply=%d delete=%d status.update=%d status.patch=%d status.apply=%d",
		c.Get, c.List, c.Create, c.Update, c.Patch, c.Apply, c.Delete, c.StatusUpdate, c.StatusPatch, c.StatusApply)
}

// Counter counts calls made through a client built by NewEnv. Safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	c  Calls
}

// Calls returns the counts so far.
func (c *Counter) Calls() Calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

// Reset zeroes the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c = Calls{}
}

func (c *Counter) inc(f func(*Calls)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.c)
}

// Event is one recorded event.
type Event struct {
	Type, Reason, Action, Note string
	// Regarding is "namespace/name" (or "name") of the object the event is about.
	Regarding string
}

// String is "Type Reason Note".
func (e Event) String() string { return e.Type + " " + e.Reason + " " + e.Note }

// Recorder is an events.EventRecorder that keeps the events it receives.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Eventf implements events.EventRecorder.
func (r *Recorder) Eventf(regarding runtime.Object, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	ev := Event{Type: eventtype, Reason: reason, Action: action, Note: fmt.Sprintf(note, args...)}
	if o, ok := regarding.(client.Object); ok {
		ev.Regarding = client.ObjectKeyFromObject(o).String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// Events returns the recorded events in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Reset forgets the recorded events.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// Options configure an Env.
type Options struct {
	// Objects exist before the reconcile.
	Objects []client.Object
	// StatusSubresource lists types with a status subresource (the primary type is
	// added by Harness).
	StatusSubresource []client.Object
	// Funcs intercept calls (inject failures); calls are counted before interception.
	Funcs interceptor.Funcs
}

// Env is a fake API: a counting client over controller-runtime's fake client, and an
// event recorder.
type Env struct {
	Scheme *runtime.Scheme
	// Client counts every call, then applies Options.Funcs, then the fake.
	Client client.WithWatch
	// Fake is the underlying fake client (no counting, no interception), for setup
	// and assertions.
	Fake     client.WithWatch
	Counter  *Counter
	Recorder *Recorder
}

// NewEnv builds an Env.
func NewEnv(scheme *runtime.Scheme, opts Options) *Env {
	fc := fake.NewClientBuilder().
		WithScheme(scheme).
		WithObjects(opts.Objects...).
		WithStatusSubresource(opts.StatusSubresource...).
		WithReturnManagedFields().
		Build()
	inner := interceptor.NewClient(fc, opts.Funcs)
	counting, counter := Counting(inner)
	return &Env{Scheme: scheme, Client: counting, Fake: fc, Counter: counter, Recorder: &Recorder{}}
}

// Deps returns reconciler dependencies backed by this Env (the same counting client
// serves as cached client and API reader).
func (e *Env) Deps() reconciler.Deps {
	return reconciler.Deps{Client: e.Client, Reader: e.Client, Scheme: e.Scheme, Recorder: e.Recorder}
}

// Counting wraps any client (a fake, or a real one in an envtest suite) so that every
// call is counted by verb.
func Counting(c client.WithWatch) (client.WithWatch, *Counter) {
	counter := &Counter{}
	return interceptor.NewClient(c, countingFuncs(counter)), counter
}

func countingFuncs(c *Counter) interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			c.inc(func(x *Calls) { x.Get++ })
			return cl.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			c.inc(func(x *Calls) { x.List++ })
			return cl.List(ctx, list, opts...)
		},
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			c.inc(func(x *Calls) { x.Create++ })
			return cl.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			c.inc(func(x *Calls) { x.Update++ })
			return cl.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, cl client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			c.inc(func(x *Calls) { x.Patch++ })
			return cl.Patch(ctx, obj, patch, opts...)
		},
		Apply: func(ctx context.Context, cl client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			c.inc(func(x *Calls) { x.Apply++ })
			return cl.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			c.inc(func(x *Calls) { x.Delete++ })
			return cl.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if sub == "status" {
				c.inc(func(x *Calls) { x.StatusUpdate++ })
			} else {
				c.inc(func(x *Calls) { x.Update++ })
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, cl client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if sub == "status" {
				c.inc(func(x *Calls) { x.StatusPatch++ })
			} else {
				c.inc(func(x *Calls) { x.Patch++ })
			}
			return cl.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
		SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			if sub == "status" {
				c.inc(func(x *Calls) { x.StatusApply++ })
			} else {
				c.inc(func(x *Calls) { x.Apply++ })
			}
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		},
	}
}

// Result is the outcome of one reconcile.
type Result struct {
	Result  reconcile.Result
	Err     error
	Outcome reconciler.Outcome
}

// OutcomeOf classifies what a reconciler returned: an error is classified with
// reconciler.Classify, a RequeueAfter without error is OutcomeWaiting, anything else
// OutcomeDone.
func OutcomeOf(res reconcile.Result, err error) reconciler.Outcome {
	if err != nil {
		return reconciler.Classify(err)
	}
	if res.RequeueAfter > 0 {
		return reconciler.OutcomeWaiting
	}
	return reconciler.OutcomeDone
}

// Harness runs cases against one controller.
type Harness[T client.Object] struct {
	// Scheme knows the primary and child types.
	Scheme *runtime.Scheme
	// NewObj returns an empty primary.
	NewObj func() T
	// Controller returns the controller declaration (a fresh Builder per case).
	Controller func() *reconciler.Builder[T]
	// StatusSubresource lists additional types with a status subresource.
	StatusSubresource []client.Object
}

// Case is one row of a table test: given objects, run one reconcile of Key, expect.
type Case[T client.Object] struct {
	Name string
	// Objects exist before the reconcile.
	Objects []client.Object
	// Key of the primary to reconcile.
	Key types.NamespacedName
	// Funcs inject failures (calls are still counted).
	Funcs interceptor.Funcs
	// Setup runs after the Env is built, before the reconcile.
	Setup func(t *testing.T, env *Env)

	// ExpectWrites, if set, must equal the write calls made (reads are not compared).
	ExpectWrites *Calls
	// ExpectOutcome, if set, is the expected class of the result.
	ExpectOutcome reconciler.Outcome
	// ExpectRequeueAfter, if set, is the expected RequeueAfter.
	ExpectRequeueAfter time.Duration
	// ExpectErrContains, if set, must be a substring of the returned error.
	ExpectErrContains string
	// ExpectConditions, if not nil, are the exact conditions of the primary after the
	// reconcile (compared by type, status, reason, observedGeneration, and message
	// when the expected message is not empty). A primary that does not implement
	// reconciler.Object has none: use []metav1.Condition{}.
	ExpectConditions []metav1.Condition
	// ExpectEvents, if not nil, are the exact events ("Type Reason" prefixes of
	// Event.String()); use []string{} to expect none.
	ExpectEvents []string
	// Verify runs last, with the primary as stored after the reconcile (nil-valued T
	// if it is gone).
	Verify func(t *testing.T, env *Env, primary T, res Result)
}

// Run runs every case as a subtest.
func (h Harness[T]) Run(t *testing.T, cases []Case[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) { h.RunCase(t, tc) })
	}
}

// NewEnv builds an Env for this harness (status subresource for the primary when
// it implements reconciler.Object; a statusless primary such as a ConfigMap or a
// Deployment is stored like any other object).
func (h Harness[T]) NewEnv(objs []client.Object, funcs interceptor.Funcs) *Env {
	status := append([]client.Object(nil), h.StatusSubresource...)
	if _, ok := any(h.NewObj()).(reconciler.Object); ok {
		status = append(status, h.NewObj())
	}
	return NewEnv(h.Scheme, Options{
		Objects:           objs,
		StatusSubresource: status,
		Funcs:             funcs,
	})
}

// Reconcile builds the controller against env and runs one reconcile of key.
func (h Harness[T]) Reconcile(t *testing.T, env *Env, key types.NamespacedName) Result {
	t.Helper()
	return h.reconcile(t, env, key)
}

func (h Harness[T]) reconcile(t reporter, env *Env, key types.NamespacedName) Result {
	t.Helper()
	r, err := h.Controller().BuildWith(env.Deps())
	if err != nil {
		t.Fatalf("BuildWith: %v", err)
		return Result{Err: err}
	}
	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
	return Result{Result: res, Err: err, Outcome: OutcomeOf(res, err)}
}

// RunCase runs one case.
func (h Harness[T]) RunCase(t *testing.T, tc Case[T]) {
	t.Helper()
	h.runCase(t, t, tc)
}

// reporter is what a case's checks report mismatches to (a *testing.T; the kit's
// own tests pass a recorder, to prove every mismatch is reported).
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

func (h Harness[T]) runCase(t *testing.T, r reporter, tc Case[T]) {
	r.Helper()
	env := h.NewEnv(tc.Objects, tc.Funcs)
	if tc.Setup != nil {
		tc.Setup(t, env)
		env.Counter.Reset()
		env.Recorder.Reset()
	}
	res := h.reconcile(r, env, tc.Key)

	if tc.ExpectOutcome != "" && res.Outcome != tc.ExpectOutcome {
		r.Errorf("outcome = %s (err %v), want %s", res.Outcome, res.Err, tc.ExpectOutcome)
	}
	if tc.ExpectRequeueAfter != 0 && res.Result.RequeueAfter != tc.ExpectRequeueAfter {
		r.Errorf("requeueAfter = %s, want %s", res.Result.RequeueAfter, tc.ExpectRequeueAfter)
	}
	if tc.ExpectErrContains != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.ExpectErrContains)) {
		r.Errorf("error = %v, want it to contain %q", res.Err, tc.ExpectErrContains)
	}
	if tc.ExpectWrites != nil {
		if got := env.Counter.Calls().WritesOnly(); got != tc.ExpectWrites.WritesOnly() {
			r.Errorf("writes:\n got  %s\n want %s", got, tc.ExpectWrites.WritesOnly())
		}
	}
	primary := h.NewObj()
	found := env.Fake.Get(context.Background(), tc.Key, primary) == nil
	if !found {
		var zero T
		primary = zero
	}
	if tc.ExpectConditions != nil {
		var got []metav1.Condition
		if o, ok := any(primary).(reconciler.Object); ok && found {
			got = o.GetConditions()
		}
		if diff := DiffConditions(got, tc.ExpectConditions); diff != "" {
			r.Errorf("conditions: %s", diff)
		}
	}
	if tc.ExpectEvents != nil {
		if diff := DiffEvents(env.Recorder.Events(), tc.ExpectEvents); diff != "" {
			r.Errorf("events: %s", diff)
		}
	}
	if tc.Verify != nil {
		tc.Verify(t, env, primary, res)
	}
}

// DiffConditions compares conditions by type, status, reason, observedGeneration
// and (when the expected one is set) message. It returns "" when they match.
func DiffConditions(got, want []metav1.Condition) string {
	var diffs []string
	if len(got) != len(want) {
		diffs = append(diffs, fmt.Sprintf("got %d conditions %s, want %d %s", len(got), condTypes(got), len(want), condTypes(want)))
	}
	for _, w := range want {
		g := meta.FindStatusCondition(got, w.Type)
		if g == nil {
			diffs = append(diffs, fmt.Sprintf("missing %s", w.Type))
			continue
		}
		if g.Status != w.Status || g.Reason != w.Reason || g.ObservedGeneration != w.ObservedGeneration ||
			(w.Message != "" && g.Message != w.Message) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s/%s gen=%d %q, want %s/%s gen=%d %q",
				w.Type, g.Status, g.Reason, g.ObservedGeneration, g.Message, w.Status, w.Reason, w.ObservedGeneration, w.Message))
		}
	}
	return strings.Join(diffs, "; ")
}

func condTypes(cs []metav1.Condition) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Type+"="+string(c.Status))
	}
	sort.Strings(out)
	return out
}

// DiffEvents checks that each event's String() starts with the expected string, in
// order. It returns "" when they match.
func DiffEvents(got []Event, want []string) string {
	gs := make([]string, len(got))
	for i, e := range got {
		gs[i] = e.String()
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d events %q, want %d %q", len(got), gs, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(gs[i], want[i]) {
			return fmt.Sprintf("event %d: got %q, want prefix %q", i, gs[i], want[i])
		}
	}
	return ""
}
