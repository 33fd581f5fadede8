package framework

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/hack/localcluster"
)

// TestCatalogRoundTrip renders the throwaway bundle with opm, derives the next
// version and writes a two-version catalog that `opm validate` accepts. It needs
// opm (built by hack/olm-bins.sh), so it runs with E2E=1.
func TestCatalogRoundTrip(t *testing.T) {
	localcluster.SkipUnlessE2E(t, "set E2E=1 (needs opm from hack/olm-bins.sh)")
	ctx := context.Background()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	opm, err := toolPath(ctx, root, "opm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteTestBundle(filepath.Join(dir, "bundle"), "rt-operator", "rt.example.com", "1.2.3"); err != nil {
		t.Fatal(err)
	}
	v1, err := RenderBundle(ctx, opm, filepath.Join(dir, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	if v1["name"] != "rt-operator.v1.2.3" {
		t.Fatalf("bundle name %v", v1["name"])
	}
	if _, ok := v1["image"]; ok {
		t.Fatalf("rendered bundle has an image: %v", v1["image"])
	}
	objs, err := BundleObjects(v1)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true
	}
	if !kinds["ClusterServiceVersion"] || !kinds["CustomResourceDefinition"] {
		t.Fatalf("embedded objects %v, want CSV and CRD", kinds)
	}

	v2, err := NextVersion(v1, "1.2.4", func(csv *unstructured.Unstructured) {
		csv.SetAnnotations(map[string]string{"example.com/marker": "v2"})
	})
	if err != nil {
		t.Fatal(err)
	}
	csv, err := CSV(v2)
	if err != nil {
		t.Fatal(err)
	}
	replaces, _, _ := unstructured.NestedString(csv.Object, "spec", "replaces")
	version, _, _ := unstructured.NestedString(csv.Object, "spec", "version")
	if csv.GetName() != "rt-operator.v1.2.4" || replaces != "rt-operator.v1.2.3" || version != "1.2.4" ||
		csv.GetAnnotations()["example.com/marker"] != "v2" {
		t.Fatalf("next CSV name=%s replaces=%s version=%s annotations=%v", csv.GetName(), replaces, version, csv.GetAnnotations())
	}
	if old, _ := CSV(v1); old.GetName() != "rt-operator.v1.2.3" {
		t.Fatalf("NextVersion modified its input: %s", old.GetName())
	}

	cat := NewPackageCatalog("rt-operator", "stable", v1)
	cat.Bundles = append(cat.Bundles, v2)
	cat.AddToChannel("stable", "rt-operator.v1.2.4", "rt-operator.v1.2.3")
	if !cat.InChannel("stable", "rt-operator.v1.2.4") {
		t.Fatal("entry not added")
	}
	if err := cat.Write(ctx, opm, filepath.Join(dir, "catalog")); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCatalog(filepath.Join(dir, "catalog"), "rt-operator")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(SortedNames(loaded.Bundles), ","); got != "rt-operator.v1.2.3,rt-operator.v1.2.4" {
		t.Fatalf("bundles %s", got)
	}

	// Dropping a bundle drops its channel entry and the replaces edge to it.
	loaded.UseBundles(v2)
	if loaded.InChannel("stable", "rt-operator.v1.2.3") {
		t.Fatal("entry for a removed bundle kept")
	}
	if err := loaded.Write(ctx, opm, filepath.Join(dir, "catalog2")); err != nil {
		t.Fatal(err)
	}
}
