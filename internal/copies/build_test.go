package copies

import (
	"errors"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/api/v1alpha1"
)

func secret(typ string, labels, annotations map[string]string, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": "creds", "namespace": "src", "resourceVersion": "42", "uid": "u-1",
			"generation": int64(3), "creationTimestamp": "2026-01-01T00:00:00Z",
			"managedFields":   []any{map[string]any{"manager": "kubectl"}},
			"ownerReferences": []any{map[string]any{"kind": "X", "name": "y"}},
		},
		"type": typ,
		"data": data,
	}}
	u.SetLabels(labels)
	u.SetAnnotations(annotations)
	return u
}

var tmpl = Template{Namespace: "team-a", OwnerLabel: v1alpha1.LabelClusterPropagation, OwnerName: "p"}

func TestBuildStripsToolingMetadata(t *testing.T) {
	src := secret("Opaque",
		map[string]string{"app": "web", "helm.sh/chart": "x-1", "app.kubernetes.io/managed-by": "Helm",
			"app.kubernetes.io/instance": "argo-app", "argocd.argoproj.io/instance": "a"},
		map[string]string{"note": "keep", "kubectl.kubernetes.io/last-applied-configuration": "{}",
			"meta.helm.sh/release-name": "r", "argocd.argoproj.io/sync-wave": "1",
			v1alpha1.AnnotationShareWithNamespaces: "*"},
		map[string]any{"a": "YQ=="})
	got, err := Build(src, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{"app": "web", v1alpha1.LabelManagedBy: "courier", v1alpha1.LabelClusterPropagation: "p"}
	if !reflect.DeepEqual(got.GetLabels(), wantLabels) {
		t.Errorf("labels = %v, want %v", got.GetLabels(), wantLabels)
	}
	wantAnn := map[string]string{"note": "keep", v1alpha1.AnnotationSource: "src/creds", v1alpha1.AnnotationSourceKind: "v1/Secret"}
	if !reflect.DeepEqual(got.GetAnnotations(), wantAnn) {
		t.Errorf("annotations = %v, want %v", got.GetAnnotations(), wantAnn)
	}
	md := got.Object["metadata"].(map[string]any)
	for _, f := range []string{"resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "ownerReferences"} {
		if _, ok := md[f]; ok {
			t.Errorf("metadata.%s was copied", f)
		}
	}
	if got.GetNamespace() != "team-a" || got.GetName() != "creds" {
		t.Errorf("copy is %s/%s", got.GetNamespace(), got.GetName())
	}
	if !reflect.DeepEqual(got.Object["data"], src.Object["data"]) || got.Object["type"] != "Opaque" {
		t.Errorf("content differs: %v", got.Object)
	}
	// The source is untouched.
	if src.GetResourceVersion() != "42" || len(src.GetLabels()) != 5 {
		t.Error("Build modified its input")
	}
}

func TestBuildTemplate(t *testing.T) {
	src := secret("Opaque", nil, nil, map[string]any{"tls.crt": "Yw==", "tls.key": "aw==", "ca.crt": "Y2E="})
	tp := tmpl
	tp.Name = "renamed"
	tp.Labels = map[string]string{"team": "a"}
	tp.Annotations = map[string]string{"why": "because"}
	tp.IncludeKeys = []string{"*.crt"}
	tp.ExcludeKeys = []string{"ca.*"}
	got, err := Build(src, tp)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "renamed" || got.GetLabels()["team"] != "a" || got.GetAnnotations()["why"] != "because" {
		t.Errorf("template not applied: %v", got.Object["metadata"])
	}
	if want := map[string]any{"tls.crt": "Yw=="}; !reflect.DeepEqual(got.Object["data"], want) {
		t.Errorf("data = %v, want %v", got.Object["data"], want)
	}
}

func TestBuildRefuses(t *testing.T) {
	cases := map[string]*unstructured.Unstructured{
		"token":        secret(SecretTypeServiceAccountToken, nil, nil, nil),
		"helm type":    secret(SecretTypeHelmRelease, nil, nil, nil),
		"helm label":   secret("Opaque", map[string]string{"owner": "helm"}, nil, nil),
		"managed copy": secret("Opaque", map[string]string{v1alpha1.LabelManagedBy: "courier", v1alpha1.LabelPropagation: "x"}, nil, nil),
	}
	for name, src := range cases {
		_, err := Build(src, tmpl)
		var r *RefusedError
		if !errors.As(err, &r) {
			t.Errorf("%s: err = %v, want a refusal", name, err)
		}
	}
	// Only managed-by without a propagation label is not a copy.
	if _, err := Build(secret("Opaque", map[string]string{v1alpha1.LabelManagedBy: "courier"}, nil, nil), tmpl); err != nil {
		t.Errorf("plain courier-labelled source refused: %v", err)
	}
}

// FuzzBuild checks the invariants of every copy: management labels present, no
// server or tooling metadata, data a subset of the source's.
func FuzzBuild(f *testing.F) {
	f.Add("Opaque", "app", "web", "k", "dmFsdWU=", "*", "")
	f.Add("kubernetes.io/tls", "helm.sh/chart", "c", "tls.key", "a2V5", "tls.*", "*.key")
	f.Fuzz(func(t *testing.T, typ, lk, lv, dk, dv, include, exclude string) {
		src := secret(typ, map[string]string{lk: lv}, map[string]string{lk: lv}, map[string]any{dk: dv})
		tp := tmpl
		if include != "" {
			tp.IncludeKeys = []string{include}
		}
		if exclude != "" {
			tp.ExcludeKeys = []string{exclude}
		}
		got, err := Build(src, tp)
		if err != nil {
			var r *RefusedError
			if !errors.As(err, &r) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		l := got.GetLabels()
		if l[v1alpha1.LabelManagedBy] != "courier" || l[v1alpha1.LabelClusterPropagation] != "p" {
			t.Fatalf("management labels missing: %v", l)
		}
		for k := range l {
			if IsToolingKey(k) && k != v1alpha1.LabelManagedBy && k != v1alpha1.LabelClusterPropagation {
				t.Fatalf("tooling label %q copied", k)
			}
		}
		if got.GetResourceVersion() != "" || got.GetUID() != "" || len(got.GetManagedFields()) != 0 || len(got.GetOwnerReferences()) != 0 {
			t.Fatal("server metadata copied")
		}
		if d, ok := got.Object["data"].(map[string]any); ok {
			for k, v := range d {
				if k != dk || v != dv {
					t.Fatalf("data %q not from the source", k)
				}
			}
		}
	})
}
