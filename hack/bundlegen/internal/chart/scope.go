package chart

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// managerRole is the config/rbac ClusterRole of the manager, rendered for both
// install scopes.
const managerRole = "manager-role"

// clusterScoped are the resources of the manager role that are not namespaced:
// they stay in a ClusterRole in a namespaced install. namespacedResources go into
// a Role in each namespace of .Values.watchNamespaces instead. A resource in neither
// list fails the generator: someone has to decide where a new grant belongs.
var (
	clusterScoped = []string{
		"namespaces", "clusterpropagations", "clusterpropagations/status",
		"validatingadmissionpolicies", "validatingadmissionpolicybindings", "selfsubjectaccessreviews",
	}
	namespacedResources = []string{
		"configmaps", "secrets", "deployments", "statefulsets", "daemonsets", "cronjobs", "jobs", "rollouts",
		"propagations", "propagations/status", "events",
	}
)

// managerRoleDoc renders the manager ClusterRole for both install scopes. Without
// .Values.watchNamespaces, it is config/rbac's ClusterRole. With them, a namespaced
// install: the ClusterRole keeps only the cluster-scoped grants (namespaces,
// ClusterPropagations, reading the admission policy), and each namespace of the
// set gets a Role with the rest (Secrets, ConfigMaps, workloads, Propagations,
// events) and its RoleBinding. Two more Roles cover the writes and reads a
// namespaced install makes outside the set: events about ClusterPropagations,
// which the events API files in default, and the admission policy's parameter
// ConfigMap (params) in the release namespace.
func managerRoleDoc(o *unstructured.Unstructured, params string) (string, error) {
	if params == "" {
		return "", fmt.Errorf("config/admission has no parameter ConfigMap")
	}
	rules, _, err := unstructured.NestedSlice(o.Object, "rules")
	if err != nil {
		return "", err
	}
	var cluster, inNamespace, events []any
	for _, r := range rules {
		rule, ok := r.(map[string]any)
		if !ok {
			return "", fmt.Errorf("config/rbac %s: a rule is a %T", managerRole, r)
		}
		c, n, err := splitRule(rule)
		if err != nil {
			return "", err
		}
		cluster, inNamespace = appendRule(cluster, c), appendRule(inNamespace, n)
		if groups, _, _ := unstructured.NestedStringSlice(n, "apiGroups"); slices.Contains(groups, "events.k8s.io") {
			events = append(events, n)
		}
	}
	if len(events) == 0 {
		return "", fmt.Errorf("config/rbac %s grants no events.k8s.io events", managerRole)
	}
	full, err := rbacDoc(o, "")
	if err != nil {
		return "", err
	}
	docs := map[string]string{}
	for name, part := range map[string]struct {
		kind, name, ns string
		rules          []any
	}{
		"cluster": {"ClusterRole", managerRole, "", cluster},
		"role":    {"Role", managerRole, "{{ $ns }}", inNamespace},
		"events":  {"Role", "manager-events", "default", events},
		"params": {"Role", "admission-params", "", []any{map[string]any{
			"apiGroups": []any{""}, "resources": []any{"configmaps"}, "resourceNames": []any{params}, "verbs": []any{"get"},
		}}},
	} {
		c := o.DeepCopy()
		c.SetKind(part.kind)
		c.SetName(part.name)
		c.Object["rules"] = part.rules
		if docs[name], err = rbacDoc(c, part.ns); err != nil {
			return "", err
		}
		if part.kind == "Role" {
			if docs[name+"Binding"], err = roleBindingDoc(part.name, part.ns); err != nil {
				return "", err
			}
		}
	}
	var b strings.Builder
	b.WriteString("{{- if $.Values.watchNamespaces }}\n")
	b.WriteString(docs["cluster"])
	b.WriteString("{{- range $ns := $.Values.watchNamespaces }}\n---\n" + docs["role"] + "---\n" + docs["roleBinding"] + "{{- end }}\n")
	b.WriteString("{{- if not (has \"default\" $.Values.watchNamespaces) }}\n---\n" + docs["events"] + "---\n" + docs["eventsBinding"] + "{{- end }}\n")
	b.WriteString("{{- if not (has $.Release.Namespace $.Values.watchNamespaces) }}\n---\n" + docs["params"] + "---\n" + docs["paramsBinding"] + "{{- end }}\n")
	b.WriteString("{{- else }}\n")
	b.WriteString(full)
	b.WriteString("{{- end }}\n")
	return b.String(), nil
}

// roleBindingDoc renders the RoleBinding of Role role (in the namespace ns names,
// or the release namespace) to the manager's ServiceAccount.
func roleBindingDoc(role, ns string) (string, error) {
	rb := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       "RoleBinding",
		"roleRef":    map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
		"subjects":   []any{map[string]any{"kind": "ServiceAccount", "name": "controller-manager", "namespace": "system"}},
	}}
	rb.SetName(strings.TrimSuffix(role, "-role") + "-rolebinding")
	return rbacDoc(rb, ns)
}

// splitRule splits one rule into its cluster-scoped and its namespaced resources
// (nil for a part with none).
func splitRule(rule map[string]any) (cluster, namespaced map[string]any, err error) {
	if _, ok := rule["nonResourceURLs"]; ok {
		return nil, nil, fmt.Errorf("config/rbac %s grants non-resource URLs, which no Role can", managerRole)
	}
	resources, _, err := unstructured.NestedStringSlice(rule, "resources")
	if err != nil {
		return nil, nil, fmt.Errorf("config/rbac %s: %w", managerRole, err)
	}
	var c, n []any
	for _, res := range resources {
		switch {
		case slices.Contains(clusterScoped, res):
			c = append(c, res)
		case slices.Contains(namespacedResources, res):
			n = append(n, res)
		default:
			return nil, nil, fmt.Errorf("config/rbac %s grants %q: say in hack/bundlegen/internal/chart/scope.go whether it is namespaced", managerRole, res)
		}
	}
	part := func(resources []any) map[string]any {
		if len(resources) == 0 {
			return nil
		}
		r := map[string]any{}
		for k, v := range rule {
			r[k] = v
		}
		r["resources"] = resources
		return r
	}
	return part(c), part(n), nil
}

func appendRule(rules []any, r map[string]any) []any {
	if r == nil {
		return rules
	}
	return append(rules, r)
}
