package markers

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseMarker(t *testing.T) {
	m, err := parseMarker(`type=status,displayName="Conditions, all",xDescriptors={"urn:a","urn:b"},resources={{Secret,v1},{ConfigMap,v1,cm}}`)
	if err != nil {
		t.Fatal(err)
	}
	if unquote(m["displayName"]) != "Conditions, all" || m["type"] != "status" {
		t.Errorf("parsed %v", m)
	}
	if got := stringList(m["xDescriptors"]); !reflect.DeepEqual(got, []string{"urn:a", "urn:b"}) {
		t.Errorf("xDescriptors %v", got)
	}
	res, err := resourceList(m["resources"])
	if err != nil || !reflect.DeepEqual(res, [][]string{{"Secret", "v1"}, {"ConfigMap", "v1", "cm"}}) {
		t.Errorf("resources %v %v", res, err)
	}
	if _, err := parseMarker(`displayName="open`); err == nil {
		t.Error("unbalanced quote accepted")
	}
}

func TestScanWalksNestedFieldsWithPaths(t *testing.T) {
	dir := t.TempDir()
	src := `package v1
// Thing is a thing.
// +operator-sdk:csv:customresourcedefinitions:displayName="Thing",resources={{Secret,v1}}
type Thing struct {
	Spec ThingSpec ` + "`json:\"spec\"`" + `
	Status ThingStatus ` + "`json:\"status,omitempty\"`" + `
}
type ThingSpec struct {
	// Items are items.
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Items"
	Items []Item ` + "`json:\"items\"`" + `
	// Unmarked has no marker.
	Unmarked string ` + "`json:\"unmarked\"`" + `
}
type Item struct {
	// Name of the item.
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Name"
	Name string ` + "`json:\"name\"`" + `
}
type ThingStatus struct {
	// Ready says so.
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Ready",xDescriptors="urn:alm:descriptor:text"
	Ready bool ` + "`json:\"ready\"`" + `
}
`
	if err := os.WriteFile(filepath.Join(dir, "types.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	kinds, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 1 || kinds[0].Kind != "Thing" || kinds[0].DisplayName != "Thing" || kinds[0].Description != "Thing is a thing." {
		t.Fatalf("kinds %+v", kinds)
	}
	k := kinds[0]
	var paths []string
	for _, d := range k.SpecDescriptors {
		paths = append(paths, d.Path)
	}
	if !reflect.DeepEqual(paths, []string{"items", "items[0].name"}) {
		t.Errorf("spec paths %v", paths)
	}
	if len(k.StatusDescriptors) != 1 || k.StatusDescriptors[0].Path != "ready" || k.StatusDescriptors[0].XDescriptors[0] != "urn:alm:descriptor:text" {
		t.Errorf("status %+v", k.StatusDescriptors)
	}
	if len(k.Resources) != 1 || k.Resources[0].Kind != "Secret" || k.Resources[0].Name != "secrets" {
		t.Errorf("resources %+v", k.Resources)
	}
}
