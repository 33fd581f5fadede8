package rollout

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestParseCustomKind(t *testing.T) {
	for in, want := range map[string]string{
		"apps.kruise.io/v1alpha1/CloneSet":                     "apps.kruise.io/v1alpha1/CloneSet=spec.template",
		"serving.knative.dev/v1/Service=spec.template":         "serving.knative.dev/v1/Service=spec.template",
		" workloads.example.com/v1/PodSet=spec.podTemplate ":   "workloads.example.com/v1/PodSet=spec.podTemplate",
		"v1/ReplicationController":                             "v1/ReplicationController=spec.template",
		"apps.openshift.io/v1/DeploymentConfig=spec.template ": "apps.openshift.io/v1/DeploymentConfig=spec.template",
	} {
		got, err := ParseCustomKind(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseCustomKind(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"CloneSet":                          "want GROUP/VERSION/KIND",
		"a/b/c/d":                           "want GROUP/VERSION/KIND",
		"/v1/CloneSet":                      "must not be empty",
		"apps.kruise.io//CloneSet":          "must not be empty",
		"apps/v1/Deployment":                "without being told",
		"argoproj.io/v1alpha1/Rollout":      "without being told",
		"apps.kruise.io/v1/CloneSet=spec..": "empty field",
		"apps.kruise.io/v1/CloneSet=":       "empty field",
	} {
		if _, err := ParseCustomKind(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseCustomKind(%q) error = %v, want one saying %q", in, err, why)
		}
	}
}

func TestCustomKindsReadTheirPodTemplateAndName(t *testing.T) {
	k, err := ParseCustomKind("workloads.example.com/v1/PodSet=spec.podTemplate")
	if err != nil {
		t.Fatal(err)
	}
	w := k.workloadKind()
	if w.name != "PodSet.workloads.example.com" {
		t.Errorf("name = %q, want the kind qualified by its group", w.name)
	}
	u := w.New()
	u.Object["spec"] = map[string]any{"podTemplate": map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{AnnotationConfigHash: "h1"}},
		"spec": map[string]any{
			"containerConcurrency": int64(4), // not a pod template field: ignored
			"containers": []any{map[string]any{"name": "app", "envFrom": []any{
				map[string]any{"configMapRef": map[string]any{"name": "app-config"}},
			}}},
		},
	}}
	refs, err := w.inputs(u)
	if err != nil || len(refs) != 1 || refs[0].String() != "configmap/app-config" {
		t.Fatalf("inputs = %v, %v; want configmap/app-config", refs, err)
	}
	if got := w.template(u).Annotations[AnnotationConfigHash]; got != "h1" {
		t.Errorf("template hash = %q, want h1", got)
	}
	if got := w.template(w.New()); len(got.Spec.Containers) != 0 {
		t.Errorf("a workload without a template has an empty one, got %v", got)
	}
}

func TestCustomFinished(t *testing.T) {
	status := func(spec, st map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": spec, "status": st}}
		u.SetGeneration(3)
		return u
	}
	for name, c := range map[string]struct {
		u    *unstructured.Unstructured
		want bool
	}{
		"no status":                         {status(nil, nil), true},
		"generation not observed":           {status(nil, map[string]any{"observedGeneration": int64(2)}), false},
		"generation as a string (Argo)":     {status(nil, map[string]any{"observedGeneration": "3"}), true},
		"old generation as a string":        {status(nil, map[string]any{"observedGeneration": "2"}), false},
		"all replicas updated, available":   {status(map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(3), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(2)}), true},
		"one replica still old":             {status(map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(3), "replicas": int64(3), "updatedReplicas": int64(2), "availableReplicas": int64(3)}), false},
		"updated but not available":         {status(map[string]any{"replicas": int64(2)}, map[string]any{"replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(1)}), false},
		"no spec.replicas: status replicas": {status(nil, map[string]any{"replicas": int64(1), "updatedReplicas": int64(1), "availableReplicas": int64(1)}), true},
	} {
		if got := customFinished(c.u); got != c.want {
			t.Errorf("%s: customFinished = %v, want %v", name, got, c.want)
		}
	}
}

func TestPlacementFollowsTheStrategy(t *testing.T) {
	argo := ArgoRollouts.workloadKind()
	r := argo.New()
	r.Object["spec"] = map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]any{AnnotationConfigHash: "from-a-template-rollout"}}}}

	p, err := argo.placementOf(r)
	if err != nil || p.restartPath != nil {
		t.Fatalf("default strategy: %+v, %v; want by template", p, err)
	}
	r.SetAnnotations(map[string]string{AnnotationStrategy: strategyRestart, AnnotationConfigHash: "restarted"})
	p, err = argo.placementOf(r)
	if err != nil || strings.Join(p.restartPath, ".") != "spec.restartAt" || p.keptTemplateHash != "from-a-template-rollout" {
		t.Fatalf("restart strategy: %+v, %v", p, err)
	}
	if got := p.markers(r, argo.template(r))[AnnotationConfigHash]; got != "restarted" {
		t.Errorf("restart strategy reads the hash from the workload's metadata, got %q", got)
	}
	r.SetAnnotations(map[string]string{AnnotationStrategy: "recreate"})
	if _, err := argo.placementOf(r); err == nil || !strings.Contains(err.Error(), `"recreate" is neither`) {
		t.Errorf("unknown strategy: error %v", err)
	}
	d := deployments.New()
	d.Annotations = map[string]string{AnnotationStrategy: strategyRestart}
	if p, err := deployments.placementOf(d); err == nil || p.restartPath != nil {
		t.Errorf("a Deployment cannot restart without a template change: %+v, %v", p, err)
	}
}

func TestArgoRolloutsWorkloadRefNamesTheTemplate(t *testing.T) {
	argo := ArgoRollouts.workloadKind()
	r := argo.New()
	if got := argo.templateElsewhere(r); got != "" {
		t.Errorf("own template: %q", got)
	}
	r.Object["spec"] = map[string]any{"workloadRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}
	if got := argo.templateElsewhere(r); got != "Deployment/web" {
		t.Errorf("workloadRef: %q, want Deployment/web", got)
	}
	if ArgoRollouts.GVK != (schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"}) {
		t.Errorf("Argo Rollouts kind: %v", ArgoRollouts.GVK)
	}
}

func TestRestartAtIsTheLastRolloutToTheSecond(t *testing.T) {
	at := time.Date(2026, 12, 2, 7, 0, 1, 900_000_000, time.FixedZone("CET", 3600))
	if got := restartAt(at); got != "2026-12-02T06:00:01Z" {
		t.Errorf("restartAt = %q", got)
	}
}
