package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// used is every permission Courier's code exercises, with the call that needs it.
// The list comes from reading the code (pkg/reconciler, controllers/, cmd/courier,
// controller-runtime's leader election and metrics filter); anything the rendered
// RBAC grants beyond it is a permission Courier does not use.
var used = map[string]string{
	// Propagations: the manager cache lists and watches them; the finalizer is added
	// and removed with a merge patch (pkg/reconciler/step.go).
	"courier.dev/clusterpropagations:get":   "cache (Get through the reader)",
	"courier.dev/clusterpropagations:list":  "cache",
	"courier.dev/clusterpropagations:watch": "cache",
	"courier.dev/clusterpropagations:patch": "finalizer patch (pkg/reconciler/step.go)",
	"courier.dev/propagations:get":          "cache (Get through the reader)",
	"courier.dev/propagations:list":         "cache",
	"courier.dev/propagations:watch":        "cache",
	"courier.dev/propagations:patch":        "finalizer patch (pkg/reconciler/step.go)",
	// Status is written with a merge patch on the status subresource.
	"courier.dev/clusterpropagations/status:patch": "Status().Patch (pkg/reconciler/reconcile.go)",
	"courier.dev/propagations/status:patch":        "Status().Patch (pkg/reconciler/reconcile.go)",
	// Sources are read directly, copies are cached (label-selected) and metadata
	// watched; new copies are created with one POST (ChildSet.Exact), adopted or
	// overwritten with SSA (patch), orphaned with a merge patch, pruned.
	"/secrets:get": "source Get, name taken on create", "/secrets:list": "cache, selector sources", "/secrets:watch": "cache",
	"/secrets:create": "Create of a new copy", "/secrets:patch": "SSA adopt/overwrite, orphan patch", "/secrets:delete": "prune",
	"/configmaps:get": "source Get, name taken on create", "/configmaps:list": "cache, selector sources", "/configmaps:watch": "cache",
	"/configmaps:create": "Create of a new copy", "/configmaps:patch": "SSA adopt/overwrite, orphan patch", "/configmaps:delete": "prune",
	"/namespaces:get": "cache", "/namespaces:list": "cache", "/namespaces:watch": "cache",
	"events.k8s.io/events:create": "event recorder", "events.k8s.io/events:patch": "event recorder (series)",
	"authorization.k8s.io/selfsubjectaccessreviews:create": "extra-kind access check (controllers/propagation/kinds.go)",
	// Before any takeover the Guard reads the admission policy and its binding by name.
	"admissionregistration.k8s.io/validatingadmissionpolicies:get":       "authzpolicy.Guard (internal/authzpolicy/guard.go)",
	"admissionregistration.k8s.io/validatingadmissionpolicybindings:get": "authzpolicy.Guard (internal/authzpolicy/guard.go)",
	// Rollout on change: opted-in workloads are cached and patched with SSA.
	"apps/deployments:get": "cache", "apps/deployments:list": "cache", "apps/deployments:watch": "cache", "apps/deployments:patch": "SSA of the config hash",
	"apps/statefulsets:get": "cache", "apps/statefulsets:list": "cache", "apps/statefulsets:watch": "cache", "apps/statefulsets:patch": "SSA of the config hash",
	"apps/daemonsets:get": "cache", "apps/daemonsets:list": "cache", "apps/daemonsets:watch": "cache", "apps/daemonsets:patch": "SSA of the config hash",
	"batch/cronjobs:get": "cache, live read before a Job starts", "batch/cronjobs:list": "cache", "batch/cronjobs:watch": "cache", "batch/cronjobs:patch": "SSA of the config hash",
	"batch/jobs:create": "a CronJob's run-now Job (controllers/rollout/runnow.go)",
	// Argo Rollouts are a built-in rollout kind (controllers/rollout/customkinds.go):
	// a label-selected cache of their own, and SSA of the hash (template or restartAt).
	"argoproj.io/rollouts:get": "cache of the kind's own cluster", "argoproj.io/rollouts:list": "cache of the kind's own cluster",
	"argoproj.io/rollouts:watch": "cache of the kind's own cluster", "argoproj.io/rollouts:patch": "SSA of the config hash or spec.restartAt",
	// Leader election (client-go LeaseLock: Get, Create, Update) and its events,
	// which client-go's resourcelock records with the core/v1 events API.
	"/events:create":                 "leader election events (core/v1, client-go resourcelock)",
	"/events:patch":                  "leader election events (core/v1 event series)",
	"coordination.k8s.io/leases:get": "LeaseLock.Get", "coordination.k8s.io/leases:create": "LeaseLock.Create",
	"coordination.k8s.io/leases:update": "LeaseLock.Update",
	// Secure metrics: TokenReview + SubjectAccessReview of every scraper.
	"authentication.k8s.io/tokenreviews:create":        "metrics authn filter",
	"authorization.k8s.io/subjectaccessreviews:create": "metrics authz filter",
}

// usedWhen are permissions used only when the code makes the call: the replace
// path of pkg/reconciler's ChildSet (an Update of a drifted copy) is one.
var usedWhen = []struct {
	perms []string
	file  string
	call  string
	why   string
}{
	{[]string{"/secrets:update", "/configmaps:update"}, "pkg/reconciler/child_write.go", "Client.Update(", "ChildSet replaces a drifted copy with an Update"},
}

// usedPermissions returns used plus every usedWhen entry whose call is in the code.
func usedPermissions(t *testing.T) map[string]string {
	out := map[string]string{}
	for k, v := range used {
		out[k] = v
	}
	for _, u := range usedWhen {
		src, err := os.ReadFile(filepath.Join(repoRoot, u.file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), u.call) {
			for _, p := range u.perms {
				out[p] = u.why
			}
		}
	}
	return out
}

// managerGrants returns the permissions config/rbac grants the manager's
// ServiceAccount, as "group/resource:verb" (non-resource URLs as "url:verb"), with
// the object granting each.
func managerGrants(objs []*unstructured.Unstructured) (map[string][]string, error) {
	roles := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" || o.GetKind() == "Role" {
			roles[o.GetKind()+"/"+o.GetName()] = o
		}
	}
	grants := map[string][]string{}
	for _, b := range objs {
		if b.GetKind() != "ClusterRoleBinding" && b.GetKind() != "RoleBinding" {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		bound := false
		for _, s := range subjects {
			m := s.(map[string]any)
			if m["kind"] == "ServiceAccount" && m["name"] == managerSA && m["namespace"] == installNamespace {
				bound = true
			}
		}
		if !bound {
			continue
		}
		kind, _, _ := unstructured.NestedString(b.Object, "roleRef", "kind")
		name, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
		role, ok := roles[kind+"/"+name]
		if !ok {
			return nil, fmt.Errorf("%s %s binds missing %s %s", b.GetKind(), b.GetName(), kind, name)
		}
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		for _, r := range rules {
			rule := r.(map[string]any)
			verbs := strs(rule["verbs"])
			for _, url := range strs(rule["nonResourceURLs"]) {
				for _, v := range verbs {
					grants[url+":"+v] = append(grants[url+":"+v], role.GetName())
				}
			}
			for _, g := range strs(rule["apiGroups"]) {
				for _, res := range strs(rule["resources"]) {
					for _, v := range verbs {
						k := g + "/" + res + ":" + v
						grants[k] = append(grants[k], role.GetName())
					}
				}
			}
		}
	}
	return grants, nil
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// TestManagerRBACLeastPrivilege parses the RBAC config/default installs for the
// manager and fails on wildcards and on any permission Courier does not use.
func TestManagerRBACLeastPrivilege(t *testing.T) {
	objs, err := rbacObjects(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := managerGrants(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) == 0 {
		t.Fatal("config/rbac grants the manager nothing: the binding or the role is missing")
	}
	used := usedPermissions(t)
	var wildcards, unused, missing []string
	for k, by := range grants {
		if strings.Contains(k, "*") {
			wildcards = append(wildcards, fmt.Sprintf("%s (%s)", k, strings.Join(by, ",")))
			continue
		}
		if _, ok := used[k]; !ok {
			unused = append(unused, fmt.Sprintf("%s (granted by %s)", k, strings.Join(by, ",")))
		}
	}
	for k, why := range used {
		if _, ok := grants[k]; !ok {
			missing = append(missing, k+" ("+why+")")
		}
	}
	sort.Strings(wildcards)
	sort.Strings(unused)
	sort.Strings(missing)
	t.Logf("manager RBAC: %d permissions granted, %d used", len(grants), len(used))
	if len(wildcards) > 0 {
		t.Errorf("wildcard permissions:\n  %s", strings.Join(wildcards, "\n  "))
	}
	if len(unused) > 0 {
		t.Errorf("permissions granted but never used by Courier (least privilege):\n  %s", strings.Join(unused, "\n  "))
	}
	// The envtest suite, which runs the manager as its ServiceAccount, also fails on
	// any request the API server denies it (scanManagerLogs).
	if len(missing) > 0 {
		t.Errorf("permissions Courier uses but config/rbac does not grant:\n  %s", strings.Join(missing, "\n  "))
	}
}
