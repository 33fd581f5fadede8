package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/hack/bundlegen/internal/catalog"
	"github.com/courier-operator/courier/hack/bundlegen/internal/tools"
)

const bundleImageBase = "ghcr.io/courier-operator/courier-operator-bundle"

// TestCatalogGraph checks the upgrade graph of every channel (one head, no cycle,
// no stranded bundle, valid skipRanges) and that the current bundle is in every
// channel it declares, at the head.
func TestCatalogGraph(t *testing.T) {
	root, o := releaseOptions(t)
	chs, err := catalog.LoadChannels(filepath.Join(root, "catalog", "courier-operator", "channels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range chs {
		names = append(names, c.Name)
		if err := catalog.Check(c); err != nil {
			t.Error(err)
			continue
		}
		for _, e := range c.Entries {
			if _, err := os.Stat(filepath.Join(root, "catalog", "courier-operator", "bundles", e.Name+".yaml")); err != nil {
				t.Errorf("channel %s lists %s, which has no bundle in the catalog", c.Name, e.Name)
			}
		}
		if slices.Contains(o.Channels, c.Name) {
			if h, _ := catalog.Head(c); h.Name != o.CSVName() {
				t.Errorf("channel %s is headed by %s, want the current bundle %s", c.Name, h.Name, o.CSVName())
			}
		}
	}
	for _, want := range o.Channels {
		if !slices.Contains(names, want) {
			t.Errorf("catalog has no channel %s", want)
		}
	}
	var pkg struct {
		Schema         string `json:"schema"`
		Name           string `json:"name"`
		DefaultChannel string `json:"defaultChannel"`
	}
	data, err := os.ReadFile(filepath.Join(root, "catalog", "courier-operator", "package.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Schema != "olm.package" || pkg.Name != o.Package || pkg.DefaultChannel != o.DefaultChannel {
		t.Errorf("package.yaml: %+v", pkg)
	}
}

// TestCatalogHasCurrentBundle wants the catalog's entry for the current version to
// be exactly what opm renders from bundle/ with the olm.csv.metadata migration (run
// make catalog-render when not): no embedded olm.bundle.object, which newer catalogs
// reject, and one olm.csv.metadata; and `opm validate` to accept the catalog.
func TestCatalogHasCurrentBundle(t *testing.T) {
	root, o := releaseOptions(t)
	opm, err := tools.Path(root, "opm")
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := tools.Run(root, opm, "render", "bundle", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	entry := t.TempDir()
	if err := os.WriteFile(filepath.Join(entry, "entry.yaml"),
		[]byte(strings.Replace(string(rendered), "\nimage: \"\"\n", "\nimage: "+bundleImageBase+":v"+o.Version+"\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	migrated, err := tools.Run(root, opm, "render", entry, "-o", "yaml", "--migrate-level=bundle-object-to-csv-metadata")
	if err != nil {
		t.Fatal(err)
	}
	want := string(migrated)
	got, err := os.ReadFile(filepath.Join(root, "catalog", "courier-operator", "bundles", o.CSVName()+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("catalog entry of %s differs from opm render bundle/ (run make catalog-render)", o.CSVName())
	}
	if n := bytes.Count(got, []byte("type: olm.bundle.object")); n != 0 {
		t.Errorf("catalog entry of %s embeds %d olm.bundle.object properties, want olm.csv.metadata only", o.CSVName(), n)
	}
	if n := bytes.Count(got, []byte("type: olm.csv.metadata")); n != 1 {
		t.Errorf("catalog entry of %s has %d olm.csv.metadata properties, want 1", o.CSVName(), n)
	}
	if out, err := tools.Run(root, opm, "validate", "catalog"); err != nil {
		t.Errorf("opm validate catalog: %v %s", err, out)
	}
}
