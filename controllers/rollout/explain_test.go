package rollout

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestExplainSaysWhatSyncDoes walks one workload through the controller's states
// and checks, before each reconcile, that Explain names the action the reconcile
// then takes: both come from evaluate.
func TestExplainSaysWhatSyncDoes(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-config"}, Data: map[string]string{"k": "v1"}}
	h := newHarness(t, cm, testDeployment("web", envFrom("app-config"), nil))
	ex := NewExplainer(Options{Window: window})
	explain := func() Explanation {
		t.Helper()
		x, err := ex.Explain(context.Background(), h.c, h.get("web"), h.clock)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	step := func(what, action, waiting string) Explanation {
		t.Helper()
		x := explain()
		if x.Action != action || x.Waiting != waiting {
			t.Fatalf("%s: action %q waiting %q; want %q, %q", what, x.Action, x.Waiting, action, waiting)
		}
		_ = h.sync("web")
		return x
	}

	x := step("first sight", "baseline", "")
	if !x.OptedIn || x.AppliedHash != "" || len(x.Inputs) != 1 || x.Inputs[0].Ref != "configmap/app-config" || !x.Inputs[0].Exists {
		t.Fatalf("first sight: %+v", x)
	}
	x = step("after the baseline", "none", "")
	if x.AppliedHash == "" || x.Pending != nil {
		t.Fatalf("after the baseline: %+v", x)
	}

	cm.Data["k"] = "v2"
	if err := h.c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	x = step("a fresh change", "wait", waitCoalescing)
	if !slices.Equal(x.Changed, []string{"configmap/app-config"}) {
		t.Fatalf("changed: %v", x.Changed)
	}
	if x = explain(); x.Pending == nil || x.Pending.Since != h.clock {
		t.Fatalf("the reconcile recorded the pending change: %+v", x.Pending)
	}
	h.clock = h.clock.Add(window)
	step("after the window", "rollout", "")
	if x = explain(); x.Action != "none" || x.LastRollout == nil || !x.LastRollout.Equal(h.clock) {
		t.Fatalf("after the rollout: %+v", x)
	}

	if err := h.c.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	x = step("the input deleted", "hold", waitMissingInput)
	if !slices.Equal(x.Missing, []string{"configmap/app-config"}) || x.Inputs[0].Exists {
		t.Fatalf("missing: %+v", x)
	}
	for _, s := range append(x.Changed, x.AppliedHash) {
		if strings.Contains(s, "v1") || strings.Contains(s, "v2") {
			t.Fatalf("explanation carries content: %q", s)
		}
	}
}

func TestExplainOtherWorkloads(t *testing.T) {
	ex := NewExplainer(Options{})
	h := newHarness(t)
	out := testDeployment("out", envFrom("x"), nil)
	out.Labels = nil
	if x, err := ex.Explain(context.Background(), h.c, out, t0); err != nil || x.OptedIn || x.Action != "" {
		t.Errorf("not opted in: %+v, %v", x, err)
	}

	ro := &unstructured.Unstructured{}
	ro.SetGroupVersionKind(ArgoRollouts.GVK)
	ro.SetNamespace("ns")
	ro.SetName("canary")
	ro.SetLabels(map[string]string{LabelOptIn: "true"})
	if err := unstructured.SetNestedField(ro.Object, "web", "spec", "workloadRef", "name"); err != nil {
		t.Fatal(err)
	}
	if x, err := ex.Explain(context.Background(), h.c, ro, t0); err != nil || x.TemplateIn != "Deployment/web" || x.Kind != "Rollout.argoproj.io" {
		t.Errorf("Rollout with a workloadRef: %+v, %v", x, err)
	}

	other := &unstructured.Unstructured{}
	other.SetAPIVersion("example.com/v1")
	other.SetKind("Thing")
	if _, err := ex.Explain(context.Background(), h.c, other, t0); err == nil || !strings.Contains(err.Error(), "--rollout-kind") {
		t.Errorf("an undeclared kind: %v", err)
	}
	if _, err := ex.Explain(context.Background(), h.c, &corev1.ConfigMap{}, t0); err == nil {
		t.Error("a ConfigMap is not a workload")
	}
}

// TestExplainRolloutQueued: a due change of a capped kind waits for a slot when
// as many workloads as the cap allows are rolling, by the manager's own count.
func TestExplainRolloutQueued(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-config"}, Data: map[string]string{"k": "v1"}}
	h := newHarness(t, cm, testDeployment("web", envFrom("app-config"), nil),
		rolled("busy", t0.Add(-time.Minute), false), rolled("done", t0.Add(-time.Minute), true))
	_ = h.sync("web") // baseline
	cm.Data["k"] = "v2"
	if err := h.c.Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	_ = h.sync("web") // pending
	h.clock = h.clock.Add(window)
	for _, c := range []struct {
		limit   int
		waiting string
	}{{0, ""}, {1, waitQueued}, {2, ""}} {
		x, err := NewExplainer(Options{Window: window, MaxConcurrentRollouts: c.limit}).Explain(context.Background(), h.c, h.get("web"), h.clock)
		if err != nil || x.Action != "rollout" || x.Waiting != c.waiting {
			t.Errorf("cap %d: action %q, waiting %q, %v; want rollout, %q", c.limit, x.Action, x.Waiting, err, c.waiting)
		}
	}
}
