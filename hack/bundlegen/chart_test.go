package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/courier-operator/courier/hack/bundlegen/internal/tools"
	"github.com/courier-operator/courier/hack/internal/manifest"
)

// chartKubeVersion is the Kubernetes version helm renders and lints for.
const chartKubeVersion = "1.37.0"

// TestChartGeneratedFilesAreInSync regenerates the chart's CRDs and RBAC from
// config/ and fails when the committed files differ (run make chart).
func TestChartGeneratedFilesAreInSync(t *testing.T) {
	root := repoRoot(t)
	files, err := RenderChart(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "charts", "courier")
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("charts/courier/%s differs from what config/ renders (run make chart): %v", p, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "crds"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files["crds/"+e.Name()]; !ok {
			t.Errorf("charts/courier/crds/%s is not in config/crd (run make chart)", e.Name())
		}
	}
}

// helmTemplate renders the chart with helm and extra arguments.
func helmTemplate(t *testing.T, root string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	helm, err := tools.Path(root, "helm")
	if err != nil {
		t.Fatal(err)
	}
	out, err := tools.Run(root, helm, append([]string{"template", "rel", "charts/courier", "--namespace", "courier-system",
		"--kube-version", chartKubeVersion, "--include-crds"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestChartMatchesConfig renders the chart and compares its CRDs, RBAC (rules,
// aggregation, bindings to the manager's ServiceAccount) and the manager
// container's hardening with config/, independently of the generator.
func TestChartMatchesConfig(t *testing.T) {
	root := repoRoot(t)
	chart := helmTemplate(t, root)
	byKindName := map[string]*unstructured.Unstructured{}
	for _, o := range chart {
		byKindName[o.GetKind()+"/"+o.GetName()] = o
	}
	const prefix = "rel-courier-"

	crds := mustKustomize(t, root, "config/crd")
	for _, want := range crds {
		got, ok := byKindName["CustomResourceDefinition/"+want.GetName()]
		if !ok || !equality.Semantic.DeepEqual(got.Object["spec"], want.Object["spec"]) {
			t.Errorf("chart CRD %s differs from config/crd", want.GetName())
		}
	}

	rbac := mustKustomize(t, root, "config/rbac")
	for _, want := range rbac {
		got, ok := byKindName[want.GetKind()+"/"+prefix+want.GetName()]
		if !ok {
			t.Errorf("chart has no %s %s%s", want.GetKind(), prefix, want.GetName())
			continue
		}
		switch want.GetKind() {
		case "Role", "ClusterRole":
			w, g := &rbacv1.ClusterRole{}, &rbacv1.ClusterRole{}
			mustConvert(t, want, w)
			mustConvert(t, got, g)
			if !equality.Semantic.DeepEqual(ruleSet(g.Rules), ruleSet(w.Rules)) || !equality.Semantic.DeepEqual(g.AggregationRule, w.AggregationRule) {
				t.Errorf("chart %s %s grants differently from config/rbac", got.GetKind(), got.GetName())
			}
		case "RoleBinding", "ClusterRoleBinding":
			w, g := &rbacv1.RoleBinding{}, &rbacv1.RoleBinding{}
			mustConvert(t, want, w)
			mustConvert(t, got, g)
			if g.RoleRef.Kind != w.RoleRef.Kind || g.RoleRef.Name != prefix+w.RoleRef.Name ||
				len(g.Subjects) != 1 || g.Subjects[0].Name != prefix+"controller-manager" || g.Subjects[0].Namespace != "courier-system" {
				t.Errorf("chart %s %s binds %+v to %+v", got.GetKind(), got.GetName(), g.RoleRef, g.Subjects)
			}
		}
	}

	// The admission policy is config/admission's, with the names the manager
	// verifies and the parameter ConfigMap in the release namespace.
	admission := mustKustomize(t, root, "config/admission")
	for _, want := range admission {
		got, ok := byKindName[want.GetKind()+"/courier-"+want.GetName()]
		if !ok {
			t.Errorf("chart has no %s courier-%s", want.GetKind(), want.GetName())
			continue
		}
		switch want.GetKind() {
		case "ValidatingAdmissionPolicy":
			if !equality.Semantic.DeepEqual(got.Object["spec"], want.Object["spec"]) ||
				got.GetAnnotations()["courier.dev/policy-revision"] != want.GetAnnotations()["courier.dev/policy-revision"] {
				t.Errorf("chart admission policy differs from config/admission")
			}
		case "ValidatingAdmissionPolicyBinding":
			ns, _, _ := unstructured.NestedString(got.Object, "spec", "paramRef", "namespace")
			param, _, _ := unstructured.NestedString(got.Object, "spec", "paramRef", "name")
			policy, _, _ := unstructured.NestedString(got.Object, "spec", "policyName")
			if ns != "courier-system" || param != "courier-propagation-kinds" || policy != "courier-propagation-authorization" {
				t.Errorf("chart binding points at policy %q and parameters %s/%s", policy, ns, param)
			}
		case "ConfigMap":
			if got.GetNamespace() != "courier-system" || !equality.Semantic.DeepEqual(got.Object["data"], want.Object["data"]) {
				t.Errorf("chart parameter ConfigMap %s/%s lists %v, config/admission %v", got.GetNamespace(), got.GetName(), got.Object["data"], want.Object["data"])
			}
		}
	}

	// The Deployment keeps config/manager's hardening, probes and resources.
	defObjs := mustKustomize(t, root, "config/default")
	want, got := &appsv1.Deployment{}, &appsv1.Deployment{}
	mustConvert(t, manifest.Find(defObjs, "Deployment")[0], want)
	deps := manifest.Find(chart, "Deployment")
	if len(deps) != 1 {
		t.Fatalf("chart renders %d Deployments", len(deps))
	}
	mustConvert(t, deps[0], got)
	wc, gc := want.Spec.Template.Spec.Containers[0], got.Spec.Template.Spec.Containers[0]
	if !equality.Semantic.DeepEqual(gc.SecurityContext, wc.SecurityContext) ||
		!equality.Semantic.DeepEqual(got.Spec.Template.Spec.SecurityContext, want.Spec.Template.Spec.SecurityContext) ||
		!equality.Semantic.DeepEqual(gc.Resources, wc.Resources) ||
		!equality.Semantic.DeepEqual(gc.LivenessProbe, wc.LivenessProbe) ||
		!equality.Semantic.DeepEqual(gc.ReadinessProbe, wc.ReadinessProbe) ||
		!equality.Semantic.DeepEqual(gc.Command, wc.Command) {
		t.Errorf("chart manager container differs from config/manager in security context, resources, probes or command")
	}
	if got.Spec.Template.Spec.ServiceAccountName != prefix+"controller-manager" {
		t.Errorf("chart Deployment runs as %q", got.Spec.Template.Spec.ServiceAccountName)
	}
}

func mustConvert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatal(err)
	}
}

// TestHelmLintAndTemplate lints the chart strictly, renders the optional
// ServiceMonitor, and checks that values.schema.json rejects invalid values.
func TestHelmLintAndTemplate(t *testing.T) {
	root := repoRoot(t)
	helm, err := tools.Path(root, "helm")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := tools.Run(root, helm, "lint", "charts/courier", "--strict", "--kube-version", chartKubeVersion); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	objs := helmTemplate(t, root, "--set", "serviceMonitor.enabled=true", "--set", "metrics.secure=false")
	if len(manifest.Find(objs, "ServiceMonitor")) != 1 {
		t.Error("serviceMonitor.enabled=true renders no ServiceMonitor")
	}
	if len(manifest.Find(helmTemplate(t, root), "ServiceMonitor")) != 0 {
		t.Error("a ServiceMonitor is rendered by default")
	}
	// The alerts and the dashboard, opt-in, are the ones config/ ships.
	mon := helmTemplate(t, root, "--set", "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true")
	alerts := mustKustomize(t, root, "config/prometheus")
	if rules := manifest.Find(mon, "PrometheusRule"); len(rules) != 1 || len(manifest.Find(alerts, "PrometheusRule")) != 1 ||
		!reflect.DeepEqual(rules[0].Object["spec"], manifest.Find(alerts, "PrometheusRule")[0].Object["spec"]) {
		t.Errorf("prometheusRule.enabled=true does not render config/prometheus's alerts (%d PrometheusRules)", len(rules))
	}
	dashboard, err := os.ReadFile(filepath.Join(root, "config", "grafana", "courier-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var shipped bool
	for _, cm := range manifest.Find(mon, "ConfigMap") {
		data, _, _ := unstructured.NestedString(cm.Object, "data", "courier-dashboard.json")
		shipped = shipped || (data == strings.TrimSuffix(string(dashboard), "\n") && cm.GetLabels()["grafana_dashboard"] == "1")
	}
	if !shipped {
		t.Error("grafanaDashboard.enabled=true renders no ConfigMap labelled grafana_dashboard=1 with config/grafana/courier-dashboard.json")
	}
	if def := helmTemplate(t, root); len(manifest.Find(def, "PrometheusRule")) != 0 || len(manifest.Find(def, "ConfigMap")) != len(manifest.Find(mon, "ConfigMap"))-1 {
		t.Error("the alerts or the dashboard are rendered by default")
	}
	// Extra kinds reach the admission policy's parameter ConfigMap.
	kinds := manifest.Find(helmTemplate(t, root, "--set", "propagationKinds.NetworkPolicy\\.networking\\.k8s\\.io=networkpolicies"), "ConfigMap")
	if len(kinds) != 1 || kinds[0].Object["data"].(map[string]any)["NetworkPolicy.networking.k8s.io"] != "networkpolicies" ||
		kinds[0].Object["data"].(map[string]any)["Secret"] != "secrets" {
		t.Errorf("propagationKinds does not reach the parameter ConfigMap: %v", kinds)
	}
	if _, err := tools.Run(root, helm, "template", "rel", "charts/courier", "--kube-version", chartKubeVersion,
		"--set", "propagationKinds.networkpolicies=NetworkPolicy"); err == nil {
		t.Error("values.schema.json accepted a propagationKinds key that is no kind")
	}
	// Rollout kinds reach the manager's flags and get their RBAC grant; none by default.
	rk := helmTemplate(t, root, "--set", "manager.rolloutKinds[0].kind=apps.kruise.io/v1alpha1/CloneSet",
		"--set", "manager.rolloutKinds[0].resource=clonesets", "--set", "manager.rolloutMaxConcurrent=50")
	args := fmt.Sprint(manifest.Find(rk, "Deployment")[0].Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["args"])
	if !strings.Contains(args, "--rollout-kind=apps.kruise.io/v1alpha1/CloneSet") || !strings.Contains(args, "--rollout-max-concurrent=50") {
		t.Errorf("manager.rolloutKinds and rolloutMaxConcurrent do not reach the flags: %s", args)
	}
	var granted bool
	for _, r := range manifest.Find(rk, "ClusterRole") {
		if strings.HasSuffix(r.GetName(), "-rollout-kinds") {
			rule := r.Object["rules"].([]any)[0].(map[string]any)
			granted = fmt.Sprint(rule["apiGroups"], rule["resources"], rule["verbs"]) == "[apps.kruise.io] [clonesets] [get list watch patch]"
		}
	}
	if !granted {
		t.Error("manager.rolloutKinds renders no ClusterRole granting get, list, watch, patch on the kind")
	}
	if len(manifest.Find(rk, "ClusterRoleBinding")) != len(manifest.Find(helmTemplate(t, root), "ClusterRoleBinding"))+1 {
		t.Error("manager.rolloutKinds renders no binding of its ClusterRole")
	}
	if _, err := tools.Run(root, helm, "template", "rel", "charts/courier", "--kube-version", chartKubeVersion,
		"--set", "manager.rolloutKinds[0].kind=CloneSet", "--set", "manager.rolloutKinds[0].resource=clonesets"); err == nil {
		t.Error("values.schema.json accepted a rollout kind without group and version")
	}
	_, err = tools.Run(root, helm, "template", "rel", "charts/courier", "--kube-version", chartKubeVersion, "--set", "replicaCount=0")
	if err == nil || !strings.Contains(err.Error(), "replicaCount") {
		t.Errorf("values.schema.json accepted replicaCount=0: %v", err)
	}
}
