package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/courier-operator/courier/internal/objectkind"
)

// CustomKind is a workload kind with a pod template that Courier has no Go type for:
// a custom resource such as an Argo Rollout (built in), an OpenKruise CloneSet, an
// OpenShift DeploymentConfig or a Knative Service (declared by the cluster admin with
// --rollout-kind). Its workloads are read as unstructured objects, and its controller
// starts once the API server serves the kind (see lateKinds).
type CustomKind struct {
	// GVK is the kind, e.g. apps.kruise.io/v1alpha1, Kind=CloneSet.
	GVK schema.GroupVersionKind
	// TemplatePath is the field path of the pod template, e.g. spec, template.
	TemplatePath []string
	// RestartPath is the field path of a timestamp that replaces the pods without a
	// template change (Argo Rollouts' spec.restartAt); nil for kinds without one.
	RestartPath []string
	// templateElsewhere names, for a workload whose pod template lives in another
	// object, that object (Argo Rollouts' spec.workloadRef); nil: always its own.
	templateElsewhere func(*unstructured.Unstructured) string
}

// ArgoRollouts is Argo Rollouts' Rollout. It rolls by template (a new revision, so
// its canary or blue-green steps and analysis run) or, with AnnotationStrategy
// "restart", through spec.restartAt (the pods are replaced, no new revision). A
// Rollout with spec.workloadRef takes its pod template from the Deployment it
// names: that Deployment is what opts in, and Courier's template change there is a
// new revision of the Rollout (Argo watches the Deployment's template).
var ArgoRollouts = CustomKind{
	GVK:          schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"},
	TemplatePath: []string{"spec", "template"},
	RestartPath:  []string{"spec", "restartAt"},
	templateElsewhere: func(u *unstructured.Unstructured) string {
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "workloadRef", "kind")
		name, _, _ := unstructured.NestedString(u.Object, "spec", "workloadRef", "name")
		if name == "" {
			return ""
		}
		return cmp.Or(kind, "Deployment") + "/" + name
	},
}

// builtInKinds are the kinds Courier rolls without being told: a --rollout-kind
// naming one of them is refused.
var builtInKinds = []schema.GroupVersionKind{
	deployments.gvk, statefulSets.gvk, daemonSets.gvk, cronJobs.gvk, ArgoRollouts.GVK,
}

// ParseCustomKind parses a --rollout-kind value, GROUP/VERSION/KIND (VERSION/KIND
// for the core group) with an optional =FIELD.PATH of the pod template (default
// spec.template), e.g. apps.kruise.io/v1alpha1/CloneSet or
// serving.knative.dev/v1/Service=spec.template.
func ParseCustomKind(s string) (CustomKind, error) {
	kind, path, hasPath := strings.Cut(strings.TrimSpace(s), "=")
	parts := strings.Split(kind, "/")
	var gvk schema.GroupVersionKind
	switch len(parts) {
	case 3:
		gvk = schema.GroupVersionKind{Group: parts[0], Version: parts[1], Kind: parts[2]}
	case 2:
		gvk = schema.GroupVersionKind{Version: parts[0], Kind: parts[1]}
	default:
		return CustomKind{}, fmt.Errorf("%q: want GROUP/VERSION/KIND[=FIELD.PATH], e.g. apps.kruise.io/v1alpha1/CloneSet=spec.template", s)
	}
	if gvk.Version == "" || gvk.Kind == "" || (len(parts) == 3 && gvk.Group == "") {
		return CustomKind{}, fmt.Errorf("%q: group, version and kind must not be empty", s)
	}
	if slices.Contains(builtInKinds, gvk) {
		return CustomKind{}, fmt.Errorf("%q: Courier rolls %s without being told", s, gvk.Kind)
	}
	if !hasPath {
		path = "spec.template"
	}
	fields := strings.Split(path, ".")
	if slices.Contains(fields, "") {
		return CustomKind{}, fmt.Errorf("%q: the pod template's field path %q has an empty field", s, path)
	}
	return CustomKind{GVK: gvk, TemplatePath: fields}, nil
}

// String renders the kind as ParseCustomKind reads it.
func (c CustomKind) String() string {
	gv := c.GVK.GroupVersion().String()
	return gv + "/" + c.GVK.Kind + "=" + strings.Join(c.TemplatePath, ".")
}

// workloadKind is the rollout controller's description of the kind. Its name is
// qualified by the group (Rollout.argoproj.io), since two groups may both have a
// Service.
func (c CustomKind) workloadKind() workloadKind[*unstructured.Unstructured] {
	name := c.GVK.Kind
	if c.GVK.Group != "" {
		name += "." + c.GVK.Group
	}
	return workloadKind[*unstructured.Unstructured]{
		name: name, gvk: c.GVK, Kind: objectkind.Unstructured(c.GVK),
		template:          func(u *unstructured.Unstructured) *corev1.PodTemplateSpec { return podTemplateAt(u, c.TemplatePath) },
		templatePath:      c.TemplatePath,
		restartPath:       c.RestartPath,
		finished:          customFinished,
		templateElsewhere: c.templateElsewhere,
	}
}

// podTemplateAt reads the pod template at path (an empty one when there is none).
// Fields a pod template does not have (a Knative revision's containerConcurrency)
// are ignored: only the references to inputs and the annotations matter here.
func podTemplateAt(u *unstructured.Unstructured, path []string) *corev1.PodTemplateSpec {
	var t corev1.PodTemplateSpec
	if m, found, err := unstructured.NestedMap(u.Object, path...); found && err == nil {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &t); err != nil {
			return &corev1.PodTemplateSpec{}
		}
	}
	return &t
}

// customFinished is the rollout-done check for custom kinds, from the conventions
// their controllers share with apps/v1: status.observedGeneration (a number, or a
// string as in Argo Rollouts) has reached metadata.generation, and where the status
// counts replicas, every replica runs the new template and is available. A kind
// whose status has neither is done at once (the cap then does not hold it).
func customFinished(u *unstructured.Unstructured) bool {
	if g, ok := statusInt(u, "observedGeneration"); ok && g < u.GetGeneration() {
		return false
	}
	replicas, ok := statusInt(u, "replicas")
	if !ok {
		return true
	}
	want := replicas
	if w, found, err := unstructured.NestedInt64(u.Object, "spec", "replicas"); found && err == nil {
		want = w
	}
	updated, _ := statusInt(u, "updatedReplicas")
	available, _ := statusInt(u, "availableReplicas")
	return replicas == want && updated == want && available >= want
}

// statusInt reads status.<field> as a number, also from a string (Argo Rollouts
// stores observedGeneration as one).
func statusInt(u *unstructured.Unstructured, field string) (int64, bool) {
	v, found, err := unstructured.NestedFieldNoCopy(u.Object, "status", field)
	if !found || err != nil {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
