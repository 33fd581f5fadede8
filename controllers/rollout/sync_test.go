package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// harness runs syncWorkload on a fake client with a controllable clock, as the
// reconciler would, and records events.
type harness struct {
	t      *testing.T
	c      client.Client
	r      *syncer
	clock  time.Time
	events []string
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	s := courierscheme.New()
	h := &harness{t: t, clock: t0}
	h.c = fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	h.r = newSyncer(Options{Window: window})
	h.r.now = func() time.Time { return h.clock }
	return h
}

// sync runs one reconcile of the named Deployment and returns its outcome.
func (h *harness) sync(name string) error {
	h.t.Helper()
	var d appsv1.Deployment
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, &d); err != nil {
		h.t.Fatal(err)
	}
	return syncWorkload(context.Background(), h.r, deployments, &d, scope{
		Client: h.c, Reader: h.c, Log: logr.Discard(),
		Eventf: func(eventType, reason, format string, args ...any) {
			h.events = append(h.events, reason+": "+fmt.Sprintf(format, args...))
		},
	})
}

func (h *harness) get(name string) *appsv1.Deployment {
	var d appsv1.Deployment
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, &d); err != nil {
		h.t.Fatal(err)
	}
	return &d
}

func testDeployment(name string, spec corev1.PodSpec, annotations map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{LabelOptIn: "true"}, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
	}
}

func envFrom(cm string) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", EnvFrom: []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}}}}
}

func TestSyncBaselineWaitRollout(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-config"}, Data: map[string]string{"password": "s3cret-value"}}
	h := newHarness(t, cm, testDeployment("web", envFrom("app-config"), nil))
	before := testutil.ToFloat64(rolloutsTotal.WithLabelValues("Deployment", reasonContentChanged))

	if err := h.sync("web"); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	d := h.get("web")
	if d.Annotations[AnnotationAppliedHash] == "" || d.Spec.Template.Annotations[AnnotationConfigHash] != "" {
		t.Fatalf("first sight must record a baseline and leave the template alone: %v / %v", d.Annotations, d.Spec.Template.Annotations)
	}
	rv := d.ResourceVersion
	if err := h.sync("web"); err != nil || h.get("web").ResourceVersion != rv {
		t.Fatalf("steady state must not write: err=%v", err)
	}

	cm.Data["password"] = "n3w-value"
	if err := h.c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	err := h.sync("web")
	if reconciler.Classify(err) != reconciler.OutcomeWaiting {
		t.Fatalf("a fresh change must wait for the window, got %v", err)
	}
	h.clock = h.clock.Add(window)
	if err := h.sync("web"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	d = h.get("web")
	if got := d.Spec.Template.Annotations[AnnotationConfigHash]; got == "" || got != d.Annotations[AnnotationAppliedHash] {
		t.Fatalf("rollout must set the template hash to the applied hash: %q vs %q", got, d.Annotations[AnnotationAppliedHash])
	}
	if d.Annotations[AnnotationPendingHash] != "" {
		t.Fatalf("pending state must be cleared: %v", d.Annotations)
	}
	if after := testutil.ToFloat64(rolloutsTotal.WithLabelValues("Deployment", reasonContentChanged)); after != before+1 {
		t.Fatalf("courier_rollouts_total went from %v to %v", before, after)
	}
	if !containsPrefix(h.events, "RolledOut: configmap/app-config changed") {
		t.Fatalf("events: %v", h.events)
	}
	for _, e := range h.events {
		if strings.Contains(e, "s3cret") || strings.Contains(e, "n3w") {
			t.Fatalf("event leaks data: %q", e)
		}
	}
}

func TestSyncMissingRequiredInputIsReportedOnceAndNotFatal(t *testing.T) {
	h := newHarness(t, testDeployment("web", envFrom("late"), nil))
	for i := 0; i < 3; i++ {
		if err := h.sync("web"); err != nil {
			t.Fatalf("sync %d: %v", i, err)
		}
	}
	n := 0
	for _, e := range h.events {
		if strings.HasPrefix(e, "MissingInput: ") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("want one MissingInput event, got %d: %v", n, h.events)
	}
}

func TestSyncInvalidAnnotationIsReportedAndValidEntriesCount(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "extra"}, Data: map[string]string{"k": "v"}}
	h := newHarness(t, cm, testDeployment("web", corev1.PodSpec{}, map[string]string{AnnotationExtraRefs: "configmap/extra,pod/nope"}))
	if err := h.sync("web"); err != nil {
		t.Fatal(err)
	}
	if !containsPrefix(h.events, "InvalidAnnotation: ") {
		t.Fatalf("events: %v", h.events)
	}
	if got := h.get("web").Annotations[AnnotationAppliedRefs]; !strings.HasPrefix(got, "configmap/extra=") {
		t.Fatalf("applied refs = %q", got)
	}
}

func TestSyncIgnoresWorkloadsThatOptedOut(t *testing.T) {
	d := testDeployment("web", envFrom("x"), nil)
	d.Labels = nil
	h := newHarness(t, d)
	if err := h.sync("web"); err != nil {
		t.Fatal(err)
	}
	if len(h.get("web").Annotations) != 0 || len(h.events) != 0 {
		t.Fatal("an opted-out workload must be left alone")
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestSyncStaleReadAfterRolloutDoesNotRollTwice(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-config"}, Data: map[string]string{"k": "v1"}}
	h := newHarness(t, cm, testDeployment("web", envFrom("app-config"), nil))
	if err := h.sync("web"); err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "v2"
	if err := h.c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	_ = h.sync("web") // pending
	h.clock = h.clock.Add(window)
	stale := h.get("web") // what a lagging cache would still return after the rollout
	if err := h.sync("web"); err != nil {
		t.Fatal(err)
	}
	rolled := countPrefix(h.events, "RolledOut: ")
	err := syncWorkload(context.Background(), h.r, deployments, stale, scope{
		Client: h.c, Reader: h.c, Log: logr.Discard(),
		Eventf: func(_, reason, format string, args ...any) {
			h.events = append(h.events, reason+": "+fmt.Sprintf(format, args...))
		},
	})
	if reconciler.Classify(err) != reconciler.OutcomeWaiting {
		t.Fatalf("a stale read must wait for the cache, got %v", err)
	}
	if rolled != 1 || countPrefix(h.events, "RolledOut: ") != 1 {
		t.Fatalf("want exactly one RolledOut event: %v", h.events)
	}
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func TestSyncScheduleFromAnnotationsIsAnnouncedOnce(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-config"}, Data: map[string]string{"k": "v1"}}
	// t0 is a Friday noon (UTC): the window opens on Saturday at 02:00.
	h := newHarness(t, cm, testDeployment("web", envFrom("app-config"), map[string]string{
		AnnotationWindows: "Sat 02:00-04:00; Funday 01:00-02:00", AnnotationMinInterval: "soon",
	}))
	if err := h.sync("web"); err != nil {
		t.Fatal(err)
	}
	if !containsPrefix(h.events, "InvalidAnnotation: Ignoring 2 invalid entries: courier.dev/rollout-windows: window \"Funday 01:00-02:00\"") {
		t.Fatalf("both bad values must be reported, the valid window kept: %v", h.events)
	}
	cm.Data["k"] = "v2"
	if err := h.c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	_ = h.sync("web")
	for range 3 {
		h.clock = h.clock.Add(window)
		if err := h.sync("web"); reconciler.Classify(err) != reconciler.OutcomeWaiting {
			t.Fatalf("outside the window the change must wait: %v", err)
		}
	}
	if n := countPrefix(h.events, "RolloutScheduled: configmap/app-config changed; the schedule lets it roll out at 2026-11-28T02:00:00Z"); n != 1 {
		t.Fatalf("want one RolloutScheduled event, got %d: %v", n, h.events)
	}
	if d := h.get("web"); d.Spec.Template.Annotations[AnnotationConfigHash] != "" || d.Annotations[AnnotationPendingHash] == "" {
		t.Fatalf("nothing rolls before the window, and the change stays pending: %v", d.Annotations)
	}
	h.clock = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	if err := h.sync("web"); err != nil {
		t.Fatal(err)
	}
	d := h.get("web")
	if d.Spec.Template.Annotations[AnnotationConfigHash] == "" || d.Annotations[AnnotationLastRollout] != "2026-11-28T02:00:00Z" {
		t.Fatalf("the window opened: %v / %v", d.Annotations, d.Spec.Template.Annotations)
	}
}

func TestSyncOnKeysRollsOnlyForTheKeysRead(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}, Data: map[string]string{"LEVEL": "info", "unused": "1"}}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{
		ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}, Key: "LEVEL"}}}}}}}
	h := newHarness(t, cm, testDeployment("web", spec, map[string]string{AnnotationOnKeys: "true"}))
	settle := func() {
		t.Helper()
		for range 3 {
			if err := h.sync("web"); err != nil && reconciler.Classify(err) != reconciler.OutcomeWaiting {
				t.Fatal(err)
			}
			h.clock = h.clock.Add(window)
		}
	}
	setData := func(k, v string) {
		t.Helper()
		cm.Data[k] = v
		if err := h.c.Update(context.Background(), cm); err != nil {
			t.Fatal(err)
		}
	}
	settle()
	if got := h.get("web").Annotations[AnnotationAppliedRefs]; !strings.HasPrefix(got, "configmap/app:LEVEL=") {
		t.Fatalf("applied refs = %q, want the input with the key it reads", got)
	}
	setData("unused", "2")
	settle()
	if countPrefix(h.events, "RolledOut: ") != 0 || countPrefix(h.events, "RolloutPending: ") != 0 {
		t.Fatalf("a key the workload does not read must roll nothing: %v", h.events)
	}
	setData("LEVEL", "debug")
	settle()
	if n := countPrefix(h.events, "RolledOut: configmap/app:LEVEL changed"); n != 1 {
		t.Fatalf("want one rollout for the key read, got %d: %v", n, h.events)
	}
	// Back to whole-object hashing: another set of inputs, no content change.
	d := h.get("web")
	delete(d.Annotations, AnnotationOnKeys)
	if err := h.c.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	settle()
	if countPrefix(h.events, "RolledOut: ") != 1 || !containsPrefix(h.events, "RolloutInputsChanged: ") {
		t.Fatalf("switching the mode must record, not roll: %v", h.events)
	}
}
