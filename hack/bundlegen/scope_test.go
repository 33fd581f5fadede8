package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/courier-operator/courier/hack/internal/manifest"
)

// contentResources are what a namespaced install grants only through Roles in its
// namespaces (docs/operations.md, install scopes).
var contentResources = []string{"secrets", "configmaps", "deployments", "statefulsets", "daemonsets", "cronjobs", "jobs", "rollouts"}

// TestNamespacedInstall renders the chart for watchNamespaces [team-a, team-b] and
// wants: no ClusterRole granting Secrets, ConfigMaps or workloads; in each
// namespace a Role and RoleBinding for them; together, exactly the grants of the
// cluster-wide install (nothing lost, nothing added beyond the two Roles for
// events in default and the parameter ConfigMap); the same namespaces in the
// manager's --watch-namespaces; and the kustomize overlay config/namespaced
// granting exactly what the chart grants.
func TestNamespacedInstall(t *testing.T) {
	root := repoRoot(t)
	set := []string{"--set", "watchNamespaces={team-a,team-b}", "--set", "fullnameOverride=courier"}
	chart := helmTemplate(t, root, set...)
	wide := helmTemplate(t, root, "--set", "fullnameOverride=courier")

	grants := rbacGrants(t, chart)
	for key, rules := range grants {
		if !strings.HasPrefix(key, "ClusterRole/") {
			continue
		}
		for _, r := range rules {
			if res := strings.Split(r, "/")[1]; slices.Contains(contentResources, res) {
				t.Errorf("namespaced install: %s grants %s", key, r)
			}
		}
	}
	for _, ns := range []string{"team-a", "team-b"} {
		role := grants["Role/"+ns+"/courier-manager-role"]
		for _, want := range []string{"/secrets/:get", "/configmaps/:watch", "apps/deployments/:patch", "batch/cronjobs/:list", "events.k8s.io/events/:create"} {
			if !slices.Contains(role, want) {
				t.Errorf("namespaced install: no %s in the Role of %s: %v", want, ns, role)
			}
		}
		if b := grants["RoleBinding/"+ns+"/courier-manager-rolebinding"]; !slices.Equal(b, []string{"Role/courier-manager-role->courier-system/courier-controller-manager"}) {
			t.Errorf("namespaced install: RoleBinding in %s binds %v", ns, b)
		}
	}

	// The split loses and adds nothing: the manager's grants of both installs,
	// namespaces aside, are the same.
	managerGrants := func(g map[string][]string) sets.Set[string] {
		out := sets.New[string]()
		for key, rules := range g {
			if strings.HasSuffix(key, "/courier-manager-role") || strings.HasSuffix(key, "/courier-manager-events") {
				out.Insert(rules...)
			}
		}
		return out
	}
	if got, want := managerGrants(grants), managerGrants(rbacGrants(t, wide)); !got.Equal(want) {
		t.Errorf("namespaced install grants the manager differently:\n only namespaced: %v\n only cluster-wide: %v",
			sets.List(got.Difference(want)), sets.List(want.Difference(got)))
	}
	if !slices.Equal(grants["Role/default/courier-manager-events"], []string{"events.k8s.io/events/:create", "events.k8s.io/events/:patch"}) ||
		!slices.Equal(grants["Role/courier-system/courier-admission-params"], []string{"/configmaps/courier-propagation-kinds:get"}) {
		t.Errorf("namespaced install: the Roles outside the set grant %v and %v",
			grants["Role/default/courier-manager-events"], grants["Role/courier-system/courier-admission-params"])
	}
	if args := managerArgs(t, chart); !slices.Contains(args, "--watch-namespaces=team-a,team-b") {
		t.Errorf("namespaced install: manager args %v", args)
	}
	if args := managerArgs(t, wide); slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--watch-namespaces") }) {
		t.Errorf("cluster-wide install passes %v", args)
	}
	// One rollout kind: its grant becomes a Role per namespace too.
	rk := rbacGrants(t, helmTemplate(t, root, append(set, "--set", "manager.rolloutKinds[0].kind=apps.kruise.io/v1alpha1/CloneSet",
		"--set", "manager.rolloutKinds[0].resource=clonesets")...))
	if _, ok := rk["ClusterRole/courier-rollout-kinds"]; ok || len(rk["Role/team-b/courier-rollout-kinds"]) != 4 ||
		len(rk["RoleBinding/team-a/courier-rollout-kinds"]) != 1 {
		t.Errorf("namespaced install: rolloutKinds grants %v", rk)
	}

	overlay := mustKustomize(t, root, "config/namespaced")
	got, want := rbacGrants(t, overlay), grants
	for key := range sets.KeySet(want).Union(sets.KeySet(got)) {
		if !slices.Equal(got[key], want[key]) {
			t.Errorf("config/namespaced and the chart differ in %s:\n overlay %v\n chart   %v", key, got[key], want[key])
		}
	}
	if args := managerArgs(t, overlay); !slices.Contains(args, "--watch-namespaces=team-a,team-b") {
		t.Errorf("config/namespaced: manager args %v", args)
	}
}

// rbacGrants flattens the RBAC of objs: each role as "Kind/namespace/name" to its
// rules (ruleSet), each binding to "RoleKind/role->namespace/serviceaccount".
func rbacGrants(t *testing.T, objs []*unstructured.Unstructured) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, o := range objs {
		key := o.GetKind() + "/" + o.GetName()
		if o.GetNamespace() != "" {
			key = o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
		}
		switch o.GetKind() {
		case "Role", "ClusterRole":
			r := &rbacv1.ClusterRole{}
			mustConvert(t, o, r)
			out[key] = ruleSet(r.Rules)
		case "RoleBinding", "ClusterRoleBinding":
			b := &rbacv1.RoleBinding{}
			mustConvert(t, o, b)
			for _, s := range b.Subjects {
				out[key] = append(out[key], fmt.Sprintf("%s/%s->%s/%s", b.RoleRef.Kind, b.RoleRef.Name, s.Namespace, s.Name))
			}
		}
	}
	return out
}

// managerArgs returns the arguments of the manager container of objs' Deployment.
func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	deps := manifest.Find(objs, "Deployment")
	if len(deps) != 1 {
		t.Fatalf("%d Deployments", len(deps))
	}
	containers, _, _ := unstructured.NestedSlice(deps[0].Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	return args
}
