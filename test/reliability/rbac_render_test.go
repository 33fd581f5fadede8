package reliability

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/hack/localcluster"
)

// Kustomize-equivalent rendering of config/rbac as config/default installs it: the
// namePrefix and namespace of config/default, the ServiceAccount references of the
// bindings rewritten the way kustomize's nameReference transformer does.
const (
	installNamespace = "courier-system"
	namePrefix       = "courier-"
	// managerSA is the manager's ServiceAccount after the prefix.
	managerSA = namePrefix + "controller-manager"
)

// rbacMarker is the controller-gen marker the manager role is rendered from.
const rbacMarker = "// +kubebuilder:rbac:"

// markerRules renders the manager ClusterRole's rules from the +kubebuilder:rbac
// markers in controllers/ the way `make manifests` does (one rule per marker; the
// permission set is what matters here, not controller-gen's rule merging).
func markerRules(root string) ([]rbacv1.PolicyRule, error) {
	var rules []rbacv1.PolicyRule
	err := filepath.WalkDir(filepath.Join(root, "controllers"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(line, rbacMarker) {
				continue
			}
			r, err := parseRBACMarker(strings.TrimPrefix(line, rbacMarker))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			rules = append(rules, r)
		}
		return sc.Err()
	})
	return rules, err
}

// parseRBACMarker parses "groups=a;b,resources=c,verbs=get;list".
func parseRBACMarker(s string) (rbacv1.PolicyRule, error) {
	var r rbacv1.PolicyRule
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return r, fmt.Errorf("malformed rbac marker argument %q", kv)
		}
		vals := strings.Split(strings.Trim(v, `"`), ";")
		switch k {
		case "groups":
			r.APIGroups = vals
		case "resources":
			r.Resources = vals
		case "verbs":
			r.Verbs = vals
		case "resourceNames":
			r.ResourceNames = vals
		case "urls":
			r.NonResourceURLs = vals
		case "namespace":
			return r, fmt.Errorf("namespaced rbac markers are not expected")
		default:
			return r, fmt.Errorf("unknown rbac marker argument %q", k)
		}
	}
	return r, nil
}

// managerRole returns the manager ClusterRole: config/rbac/role.yaml when it has
// been rendered (`make manifests`), else the same role rendered from the markers.
func managerRole(root string) (*rbacv1.ClusterRole, error) {
	if data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml")); err == nil {
		var role rbacv1.ClusterRole
		if err := yaml.Unmarshal(data, &role); err != nil {
			return nil, fmt.Errorf("config/rbac/role.yaml: %w", err)
		}
		return &role, nil
	}
	rules, err := markerRules(root)
	if err != nil {
		return nil, err
	}
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: "manager-role"},
		Rules:      rules,
	}, nil
}

// rbacObjects returns every object config/rbac/kustomization.yaml lists, rendered
// with config/default's prefix and namespace.
func rbacObjects(root string) ([]*unstructured.Unstructured, error) {
	dir := filepath.Join(root, "config", "rbac")
	var k struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, res := range k.Resources {
		var docs []*unstructured.Unstructured
		if res == "role.yaml" {
			role, err := managerRole(root)
			if err != nil {
				return nil, err
			}
			u, err := toUnstructured(role)
			if err != nil {
				return nil, err
			}
			docs = append(docs, u)
		} else {
			raw, err := os.ReadFile(filepath.Join(dir, res))
			if err != nil {
				return nil, err
			}
			if docs, err = localcluster.DecodeManifests(raw); err != nil {
				return nil, fmt.Errorf("%s: %w", res, err)
			}
		}
		for _, u := range docs {
			kustomize(u)
			out = append(out, u)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return kindOrder(out[i].GetKind()) < kindOrder(out[j].GetKind()) })
	return out, nil
}

// kindOrder applies ServiceAccounts and roles before the bindings that name them.
func kindOrder(kind string) int {
	switch kind {
	case "ServiceAccount":
		return 0
	case "ClusterRole", "Role":
		return 1
	default:
		return 2
	}
}

// kustomize applies namePrefix and namespace like `kustomize build config/default`.
func kustomize(u *unstructured.Unstructured) {
	u.SetName(namePrefix + u.GetName())
	switch u.GetKind() {
	case "ClusterRole", "ClusterRoleBinding":
	default:
		u.SetNamespace(installNamespace)
	}
	if ref, ok, _ := unstructured.NestedMap(u.Object, "roleRef"); ok {
		ref["name"] = namePrefix + ref["name"].(string)
		_ = unstructured.SetNestedMap(u.Object, ref, "roleRef")
	}
	if subjects, ok, _ := unstructured.NestedSlice(u.Object, "subjects"); ok {
		for _, s := range subjects {
			m := s.(map[string]any)
			if m["kind"] == "ServiceAccount" {
				m["name"] = namePrefix + m["name"].(string)
				m["namespace"] = installNamespace
			}
		}
		_ = unstructured.SetNestedSlice(u.Object, subjects, "subjects")
	}
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	return u, yaml.Unmarshal(b, &u.Object)
}
