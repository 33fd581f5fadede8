package framework

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/hack/localcluster"
)

// Blob is one file-based-catalog object (olm.package, olm.channel, olm.bundle).
type Blob = map[string]any

// Catalog is a file-based catalog for one package. Bundles embed their manifests
// as olm.bundle.object properties, so OLM installs them without an unpack Job.
type Catalog struct {
	Package  Blob
	Channels []Blob
	Bundles  []Blob
}

// LoadCatalog reads every .json/.yaml FBC blob under dir (the committed catalog/)
// for package pkg.
func LoadCatalog(dir, pkg string) (*Catalog, error) {
	c := &Catalog{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(p)
		if ext != ".json" && ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs, err := localcluster.DecodeManifests(data)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, o := range objs {
			c.add(o.Object, pkg)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.Package == nil {
		return nil, fmt.Errorf("no olm.package %q in %s", pkg, dir)
	}
	return c, nil
}

func (c *Catalog) add(b Blob, pkg string) {
	switch b["schema"] {
	case "olm.package":
		if b["name"] == pkg {
			c.Package = b
		}
	case "olm.channel":
		if b["package"] == pkg {
			c.Channels = append(c.Channels, b)
		}
	case "olm.bundle":
		if b["package"] == pkg {
			c.Bundles = append(c.Bundles, b)
		}
	}
}

// RenderBundle renders a bundle directory (manifests/ + metadata/) with
// `opm render`, which embeds every manifest as an olm.bundle.object property and
// sets no image.
func RenderBundle(ctx context.Context, opm, bundleDir string) (Blob, error) {
	cmd := exec.CommandContext(ctx, opm, "render", bundleDir, "--output=json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("opm render %s: %w: %s", bundleDir, err, stderr.String())
	}
	objs, err := localcluster.DecodeManifests(out)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Object["schema"] == "olm.bundle" {
			b := o.Object
			delete(b, "image")
			return b, nil
		}
	}
	return nil, fmt.Errorf("opm render %s: no olm.bundle", bundleDir)
}

// UseBundles replaces the catalog's bundles with the given (embedded) ones and
// drops channel entries for bundles the catalog no longer has, and replaces/skips
// edges to them, so the catalog stays valid.
func (c *Catalog) UseBundles(bundles ...Blob) {
	c.Bundles = bundles
	have := map[string]bool{}
	for _, b := range bundles {
		have[b["name"].(string)] = true
	}
	var channels []Blob
	for _, ch := range c.Channels {
		entries, _ := ch["entries"].([]any)
		var kept []any
		for _, e := range entries {
			m, _ := e.(map[string]any)
			if !have[fmt.Sprint(m["name"])] {
				continue
			}
			if r, ok := m["replaces"]; ok && !have[fmt.Sprint(r)] {
				delete(m, "replaces")
			}
			delete(m, "skips")
			delete(m, "skipRange")
			kept = append(kept, m)
		}
		if len(kept) > 0 {
			ch["entries"] = kept
			channels = append(channels, ch)
		}
	}
	c.Channels = channels
}

// AddToChannel appends entry {name, replaces} to channel ch, creating it.
func (c *Catalog) AddToChannel(ch, name, replaces string) {
	entry := map[string]any{"name": name}
	if replaces != "" {
		entry["replaces"] = replaces
	}
	for _, b := range c.Channels {
		if b["name"] == ch {
			entries, _ := b["entries"].([]any)
			b["entries"] = append(entries, entry)
			return
		}
	}
	c.Channels = append(c.Channels, Blob{
		"schema": "olm.channel", "package": c.Package["name"], "name": ch, "entries": []any{entry},
	})
}

// Write writes the catalog as dir/<package>/catalog.json and validates it with
// `opm validate`.
func (c *Catalog) Write(ctx context.Context, opm, dir string) error {
	pkgDir := filepath.Join(dir, fmt.Sprint(c.Package["name"]))
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	all := append([]Blob{c.Package}, c.Channels...)
	all = append(all, c.Bundles...)
	for _, b := range all {
		if err := enc.Encode(b); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(pkgDir, "catalog.json"), buf.Bytes(), 0o644); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, opm, "validate", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("opm validate %s: %w: %s", dir, err, out)
	}
	return nil
}

// BundleObjects decodes a bundle blob's embedded olm.bundle.object manifests.
func BundleObjects(b Blob) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	props, _ := b["properties"].([]any)
	for _, p := range props {
		m, _ := p.(map[string]any)
		if m["type"] != "olm.bundle.object" {
			continue
		}
		v, _ := m["value"].(map[string]any)
		data, err := base64.StdEncoding.DecodeString(fmt.Sprint(v["data"]))
		if err != nil {
			return nil, err
		}
		objs, err := localcluster.DecodeManifests(data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// CSV returns the ClusterServiceVersion embedded in a bundle blob.
func CSV(b Blob) (*unstructured.Unstructured, error) {
	objs, err := BundleObjects(b)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.GetKind() == "ClusterServiceVersion" {
			return o, nil
		}
	}
	return nil, fmt.Errorf("bundle %v has no embedded CSV", b["name"])
}

// NextVersion derives the next bundle from b: version newVersion, CSV named
// <package>.v<newVersion>, spec.replaces = b's CSV, and mutate applied to the new
// CSV (the visible change). Every property is kept, so CRDs and RBAC stay the same.
func NextVersion(b Blob, newVersion string, mutate func(csv *unstructured.Unstructured)) (Blob, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var next Blob
	if err := json.Unmarshal(raw, &next); err != nil {
		return nil, err
	}
	pkg := fmt.Sprint(b["package"])
	oldName := fmt.Sprint(b["name"])
	newName := pkg + ".v" + strings.TrimPrefix(newVersion, "v")
	next["name"] = newName
	props, _ := next["properties"].([]any)
	for _, p := range props {
		m, _ := p.(map[string]any)
		switch m["type"] {
		case "olm.package":
			v, _ := m["value"].(map[string]any)
			v["version"] = strings.TrimPrefix(newVersion, "v")
		case "olm.bundle.object":
			v, _ := m["value"].(map[string]any)
			data, err := base64.StdEncoding.DecodeString(fmt.Sprint(v["data"]))
			if err != nil {
				return nil, err
			}
			objs, err := localcluster.DecodeManifests(data)
			if err != nil || len(objs) != 1 || objs[0].GetKind() != "ClusterServiceVersion" {
				continue
			}
			csv := objs[0]
			csv.SetName(newName)
			if err := unstructured.SetNestedField(csv.Object, strings.TrimPrefix(newVersion, "v"), "spec", "version"); err != nil {
				return nil, err
			}
			if err := unstructured.SetNestedField(csv.Object, oldName, "spec", "replaces"); err != nil {
				return nil, err
			}
			unstructured.RemoveNestedField(csv.Object, "spec", "skips")
			if mutate != nil {
				mutate(csv)
			}
			enc, err := json.Marshal(csv.Object)
			if err != nil {
				return nil, err
			}
			v["data"] = base64.StdEncoding.EncodeToString(enc)
		}
	}
	return next, nil
}

// SortedNames returns the names of blobs, sorted (for messages).
func SortedNames(bs []Blob) []string {
	var n []string
	for _, b := range bs {
		n = append(n, fmt.Sprint(b["name"]))
	}
	sort.Strings(n)
	return n
}

// InChannel reports whether channel ch has an entry for bundle name.
func (c *Catalog) InChannel(ch, name string) bool {
	for _, b := range c.Channels {
		if b["name"] != ch {
			continue
		}
		entries, _ := b["entries"].([]any)
		for _, e := range entries {
			if m, _ := e.(map[string]any); m["name"] == name {
				return true
			}
		}
	}
	return false
}
