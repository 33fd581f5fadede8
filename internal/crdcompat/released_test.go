package crdcompat_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/courier-operator/courier/internal/crdcompat"
)

// releasedClusterPropagation is the ClusterPropagation CRD of bundle 0.1.0, the
// file api/v1alpha1's frozen-schema test guards. Testing the checker against
// it shows that it finds real breakage in a real, large schema, not only in
// the small ones the rule tests build.
const releasedClusterPropagation = "../../api/v1alpha1/testdata/released/v0.1.0/courier.dev_clusterpropagations.yaml"

func loadReleased(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(releasedClusterPropagation)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := crdcompat.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return crd
}

// edit applies fn to the schema node at path ("[*]" steps into items or
// additionalProperties). Properties are a map of values, so each node on the
// way is copied out and written back.
func edit(t *testing.T, node *apiextensionsv1.JSONSchemaProps, path string, fn func(*apiextensionsv1.JSONSchemaProps)) {
	t.Helper()
	if path == "" {
		fn(node)
		return
	}
	step, rest, _ := strings.Cut(path, ".")
	if step == "[*]" {
		switch {
		case node.Items != nil && node.Items.Schema != nil:
			edit(t, node.Items.Schema, rest, fn)
		case node.AdditionalProperties != nil && node.AdditionalProperties.Schema != nil:
			edit(t, node.AdditionalProperties.Schema, rest, fn)
		default:
			t.Fatalf("no items or additionalProperties schema at %q", path)
		}
		return
	}
	child, ok := node.Properties[step]
	if !ok {
		t.Fatalf("no property %q (at %q)", step, path)
	}
	edit(t, &child, rest, fn)
	node.Properties[step] = child
}

func rootOf(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, version string) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == version {
			return crd.Spec.Versions[i].Schema.OpenAPIV3Schema
		}
	}
	t.Fatalf("no version %s", version)
	return nil
}

func TestReleasedCRDUnsafeMutationsAreReported(t *testing.T) {
	released := loadReleased(t)
	if got := crdcompat.Compare(released, released.DeepCopy(), "v1alpha1"); len(got) != 0 {
		t.Fatalf("the released CRD against an unchanged copy of itself: %v", got)
	}

	const rule = "self.namespaces.all(n, n != 'kube-system')"
	mutations := []struct {
		name   string
		path   string
		mutate func(*apiextensionsv1.JSONSchemaProps)
		want   string
	}{
		{
			name: "remove includeKeys", path: "spec.template",
			mutate: func(s *apiextensionsv1.JSONSchemaProps) { delete(s.Properties, "includeKeys") },
			want:   "spec.template.includeKeys: property removed",
		},
		{
			name: "lower maxItems", path: "spec.targets.namespaces",
			mutate: func(s *apiextensionsv1.JSONSchemaProps) { s.MaxItems = ptr(int64(32)) },
			want:   "spec.targets.namespaces: maxItems lowered from 64 to 32",
		},
		{
			name: "add a pattern", path: "spec.template.annotations.[*]",
			mutate: func(s *apiextensionsv1.JSONSchemaProps) { s.Pattern = "^[ -~]*$" },
			want:   `spec.template.annotations[*]: pattern added: "^[ -~]*$"`,
		},
		{
			name: "add a required field", path: "spec",
			mutate: func(s *apiextensionsv1.JSONSchemaProps) { s.Required = append(s.Required, "deletionPolicy") },
			want:   "spec.deletionPolicy: field became required",
		},
		{
			name: "add a CEL rule", path: "spec.targets",
			mutate: func(s *apiextensionsv1.JSONSchemaProps) {
				s.XValidations = append(s.XValidations, apiextensionsv1.ValidationRule{Rule: rule, Message: "no copies into kube-system"})
			},
			want: "spec.targets: validation rule added: " + rule,
		},
	}

	all := released.DeepCopy()
	var wantAll []string
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			current := released.DeepCopy()
			edit(t, rootOf(t, current, "v1alpha1"), m.path, m.mutate)
			got := render(crdcompat.Compare(released, current, "v1alpha1"))
			if !reflect.DeepEqual(got, []string{m.want}) {
				t.Errorf("got %q, want [%q]", got, m.want)
			}
		})
		edit(t, rootOf(t, all, "v1alpha1"), m.path, m.mutate)
		wantAll = append(wantAll, m.want)
	}

	// All at once: every one is still reported, each once, sorted by path.
	got := render(crdcompat.Compare(released, all, "v1alpha1"))
	want := []string{wantAll[3], wantAll[4], wantAll[1], wantAll[2], wantAll[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("all mutations:\n got %q\nwant %q", got, want)
	}
}

func TestReleasedCRDDeprecationAndNewVersionAreSafe(t *testing.T) {
	released := loadReleased(t)
	current := released.DeepCopy()

	old := &current.Spec.Versions[0]
	old.Deprecated = true
	old.DeprecationWarning = ptr("courier.dev/v1alpha1 ClusterPropagation is deprecated; use courier.dev/v1beta1")
	next := old.DeepCopy()
	old.Storage = false
	next.Name, next.Served, next.Storage = "v1beta1", true, true
	next.Deprecated, next.DeprecationWarning = false, nil
	current.Spec.Versions = append(current.Spec.Versions, *next)

	if got := crdcompat.Compare(released, current, "v1alpha1"); len(got) != 0 {
		t.Errorf("deprecating v1alpha1 and adding v1beta1 reported: %v", got)
	}
}

func TestDecode(t *testing.T) {
	data, err := os.ReadFile(releasedClusterPropagation)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := crdcompat.Decode(data)
	if err != nil {
		t.Fatalf("released file: %v", err)
	}
	if crd.Name != "clusterpropagations.courier.dev" || len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil {
		t.Fatalf("decoded the wrong thing: %s with %d versions", crd.Name, len(crd.Spec.Versions))
	}

	const minimal = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n"
	for _, ok := range []string{minimal, "---\n" + minimal, "# comment\n---\n" + minimal + "---\n"} {
		if _, err := crdcompat.Decode([]byte(ok)); err != nil {
			t.Errorf("Decode(%q): %v", ok, err)
		}
	}
	for name, bad := range map[string]string{
		"two documents":   minimal + "---\n" + minimal,
		"no document":     "# nothing\n",
		"unknown field":   minimal + "spec:\n  scop: Namespaced\n",
		"another kind":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"beta API":        strings.Replace(minimal, "apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1", 1),
		"not YAML at all": "{",
	} {
		if _, err := crdcompat.Decode([]byte(bad)); err == nil {
			t.Errorf("%s: Decode accepted %q", name, bad)
		}
	}
}
