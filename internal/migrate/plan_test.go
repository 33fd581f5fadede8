package migrate

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*/plan.golden.yaml from the output")

// peers are the fixture directories under testdata, one per peer.
var peers = []string{"reloader", "replicator", "reflector", "kyverno"}

// readObjects decodes a multi-document YAML file into objects.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// decodeObjects decodes an inline multi-document YAML fixture.
func decodeObjects(t *testing.T, doc string) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "input.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return readObjects(t, path)
}

func convert(t *testing.T, objs []*unstructured.Unstructured) Plan {
	t.Helper()
	p, err := Convert(objs)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func render(t *testing.T, p Plan) []byte {
	t.Helper()
	out, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGolden converts each peer's fixture and compares the plan with its golden
// file (go test ./internal/migrate -update rewrites them).
func TestGolden(t *testing.T) {
	for _, peer := range peers {
		t.Run(peer, func(t *testing.T) {
			got := render(t, convert(t, readObjects(t, filepath.Join("testdata", peer, "input.yaml"))))
			golden := filepath.Join("testdata", peer, "plan.golden.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/migrate -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plan differs from %s (run go test ./internal/migrate -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

// TestDeterministic: the same objects in any order give byte-identical plans, and
// Convert leaves its input alone.
func TestDeterministic(t *testing.T) {
	for _, peer := range peers {
		t.Run(peer, func(t *testing.T) {
			objs := readObjects(t, filepath.Join("testdata", peer, "input.yaml"))
			before := render(t, Plan{Objects: objs})
			want := render(t, convert(t, objs))
			reversed := slices.Clone(objs)
			slices.Reverse(reversed)
			rotated := append(slices.Clone(objs[len(objs)/2:]), objs[:len(objs)/2]...)
			for _, in := range [][]*unstructured.Unstructured{reversed, rotated, objs} {
				if got := render(t, convert(t, in)); !bytes.Equal(got, want) {
					t.Fatalf("a reordered input gave another plan:\n%s\nwant:\n%s", got, want)
				}
			}
			if after := render(t, Plan{Objects: objs}); !bytes.Equal(before, after) {
				t.Fatal("Convert modified its input")
			}
		})
	}
}

// TestNoDataInPlan: no value of a Secret's or ConfigMap's data (raw or decoded)
// from the fixtures appears in any Finding, nor anywhere else in the plan.
func TestNoDataInPlan(t *testing.T) {
	for _, peer := range peers {
		t.Run(peer, func(t *testing.T) {
			objs := readObjects(t, filepath.Join("testdata", peer, "input.yaml"))
			var values []string
			var collect func(v any)
			collect = func(v any) {
				switch v := v.(type) {
				case map[string]any:
					for _, e := range v {
						collect(e)
					}
				case []any:
					for _, e := range v {
						collect(e)
					}
				case string:
					if len(v) < 6 {
						return // "", "true": too short to tell a leak from a word
					}
					values = append(values, v)
					if dec, err := base64.StdEncoding.DecodeString(v); err == nil && len(dec) >= 6 {
						values = append(values, string(dec))
					}
				}
			}
			for _, o := range objs {
				for _, field := range []string{"data", "binaryData", "stringData"} {
					collect(o.Object[field])
				}
				// Kyverno's generate.data holds object data written in the policy.
				if rules, ok, _ := unstructured.NestedSlice(o.Object, "spec", "rules"); ok {
					for _, r := range rules {
						if gen, ok := r.(map[string]any)["generate"].(map[string]any); ok {
							if data, ok := gen["data"].(map[string]any); ok {
								collect(data["data"])
							}
						}
					}
				}
			}
			if len(values) == 0 {
				t.Skip("fixture holds no data values")
			}
			t.Logf("%d data values checked", len(values))
			p := convert(t, objs)
			whole := string(render(t, p))
			for _, v := range values {
				for _, f := range p.Findings {
					if strings.Contains(f.Message, v) {
						t.Errorf("finding on %s (%s) contains data value %q: %s", f.Object, f.Annotation, v, f.Message)
					}
				}
				if strings.Contains(whole, v) {
					t.Errorf("the plan contains data value %q", v)
				}
			}
		})
	}
}

func TestConvertRejectsAmbiguousInput(t *testing.T) {
	cm := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "a", "namespace": "n"}}}
	}
	for name, in := range map[string][]*unstructured.Unstructured{
		"nil":       {nil},
		"duplicate": {cm(), cm()},
		"no name":   {{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}},
	} {
		if _, err := Convert(in); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if p, err := Convert(nil); err != nil || len(p.Objects)+len(p.Changes)+len(p.Findings) != 0 {
		t.Errorf("empty input: got %+v, %v", p, err)
	}
}

// Test helpers shared by the per-peer tests.

// changeOf returns the Change of the object named ns/name of kind for peer.
func changeOf(t *testing.T, p Plan, kind, ns, name, peer string) Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Object.Kind == kind && c.Object.Namespace == ns && c.Object.Name == name && c.Peer == peer {
			return c
		}
	}
	t.Fatalf("no %s change of %s %s/%s", peer, kind, ns, name)
	return Change{}
}

// findingsOf returns the findings on the object named ns/name for annotation
// ("" for any).
func findingsOf(p Plan, ns, name, annotation string) []Finding {
	var out []Finding
	for _, f := range p.Findings {
		if f.Object.Namespace == ns && f.Object.Name == name && (annotation == "" || f.Annotation == annotation) {
			out = append(out, f)
		}
	}
	return out
}

// hasFinding reports whether one of fs has severity and a message containing all
// of parts.
func hasFinding(fs []Finding, severity string, parts ...string) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool {
		if f.Severity != severity {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(f.Message, p) {
				return false
			}
		}
		return true
	})
}

// objectNamed returns the planned object of kind named ns/name.
func objectNamed(t *testing.T, p Plan, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range p.Objects {
		if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name {
			return o
		}
	}
	var names []string
	for _, o := range p.Objects {
		names = append(names, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
	}
	t.Fatalf("no %s %s/%s planned; planned: %s", kind, ns, name, strings.Join(names, "; "))
	return nil
}

// specOf renders an object's spec as YAML, for compact assertions.
func specOf(t *testing.T, o *unstructured.Unstructured) string {
	t.Helper()
	out, err := yaml.Marshal(o.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// documented are the annotations each peer's documentation lists (and its code
// defines), which its fixture must cover.
var documented = map[string][]string{
	"reloader": {rlAuto, rlSearch, rlMatch, rlIgnore, rlRolloutStrategy, rlLastReloadedFrom, rlConfigMapAuto, rlSecretAuto,
		rlConfigMapReload, rlSecretReload, rlConfigMapsExclude, rlSecretsExclude, rlSPCAuto, rlSPCReload, rlSPCExclude,
		rlPausePeriod, rlPausedAt},
	"replicator": {rpReplicateFrom, rpReplicateTo, rpReplicateToMatching, rpReplicationAllowed, rpReplicationAllowedNss,
		rpStripLabels, rpKeepOwnerReferences, rpReplicatedAt, rpReplicatedFromVersion, rpReplicatedKeys},
	"reflector": {rfAllowed, rfAllowedNamespaces, rfAllowedNamespacesSel, rfAutoEnabled, rfAutoNamespaces,
		rfAutoNamespacesSelector, rfReflects, rfAutoReflects, rfReflectedVersion, rfReflectedAt},
	"kyverno": {"clone:", "cloneList:", "synchronize: true", "synchronize: false", "data:", "foreach:", "generateExisting:",
		"orphanDownstreamOnPolicyDelete:", "preconditions:", "exclude:", "subjects:", "names:", "selector:", "kind: Policy"},
}

// silent are documented annotations a plan may leave unmentioned: the bookkeeping
// on a copy Courier adopts (it drops the peers' keys from its copies itself).
var silent = map[string]bool{rfAutoReflects: true}

// TestFixturesCoverEveryAnnotation: every documented annotation is in its peer's
// fixture, and the plan says what becomes of it (removed, or a finding).
func TestFixturesCoverEveryAnnotation(t *testing.T) {
	for peer, keys := range documented {
		in, err := os.ReadFile(filepath.Join("testdata", peer, "input.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := os.ReadFile(filepath.Join("testdata", peer, "plan.golden.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !strings.Contains(string(in), k) {
				t.Errorf("%s: the fixture does not use %s", peer, k)
			}
			if peer != "kyverno" && !silent[k] && !strings.Contains(string(plan), k) {
				t.Errorf("%s: the plan says nothing of %s", peer, k)
			}
		}
	}
}
