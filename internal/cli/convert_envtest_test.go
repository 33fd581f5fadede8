package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/cli"
)

// TestConvert rewrites manifests between versions. It needs no cluster; it runs
// in this package's suite because the CLI's other tests live here.
func TestConvert(t *testing.T) {
	t.Run("v1alpha1 manifests read as v1beta1, and convert back unchanged", func(t *testing.T) {
		res := kubectlCourier(t, "convert", "-f", "testdata/convert-v1alpha1.yaml")
		if res.code != cli.ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		golden(t, "convert-v1beta1", res.stdout)
		back := kubectlCourier(t, "convert", "-f", writeTemp(t, res.stdout), "--output-version", "courier.dev/v1alpha1")
		if back.code != cli.ExitOK {
			t.Fatalf("exit %d: %s", back.code, back.stderr)
		}
		again := kubectlCourier(t, "convert", "-f", "testdata/convert-v1alpha1.yaml", "--output-version", "courier.dev/v1alpha1")
		if back.stdout != again.stdout {
			t.Errorf("v1alpha1 → v1beta1 → v1alpha1 differs from the input as read:\n%s\nwant:\n%s", back.stdout, again.stdout)
		}
		if strings.Contains(res.stdout, v1alpha1.AnnotationConversionData) || strings.Contains(back.stdout, v1alpha1.AnnotationConversionData) {
			t.Errorf("a manifest v1alpha1 says exactly carries %s", v1alpha1.AnnotationConversionData)
		}
	})
	t.Run("v1beta1-only fields travel in the annotation and come back", func(t *testing.T) {
		down := kubectlCourier(t, "convert", "-f", "testdata/convert-v1beta1.yaml", "--output-version", "courier.dev/v1alpha1")
		if down.code != cli.ExitOK {
			t.Fatalf("exit %d: %s", down.code, down.stderr)
		}
		golden(t, "convert-v1alpha1", down.stdout)
		up := kubectlCourier(t, "convert", "-f", writeTemp(t, down.stdout))
		same := kubectlCourier(t, "convert", "-f", "testdata/convert-v1beta1.yaml") // as read, unchanged
		if up.stdout != same.stdout {
			t.Errorf("v1beta1 → v1alpha1 → v1beta1:\n%s\nwant:\n%s", up.stdout, same.stdout)
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(strings.TrimPrefix(up.stdout, "---\n")), &obj); err != nil {
			t.Fatal(err)
		}
		if _, ok := obj["metadata"].(map[string]any)["annotations"]; ok {
			t.Errorf("the annotation stays on the v1beta1 object: %v", obj["metadata"])
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, c := range []struct {
			name, manifest, want string
			code                 int
		}{
			{"unknown field", "apiVersion: courier.dev/v1alpha1\nkind: Propagation\nmetadata: {name: p, namespace: a}\nspec:\n  sources: []\n  copyTemplate: {}\n",
				`Propagation a/p: strict decoding error: unknown field "spec.copyTemplate"`, cli.ExitError},
			{"unknown version", "apiVersion: courier.dev/v9\nkind: Propagation\nmetadata: {name: p, namespace: a}\n",
				"Propagation a/p: unknown courier.dev kind or version", cli.ExitError},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := kubectlCourier(t, "convert", "-f", writeTemp(t, c.manifest))
				if res.code != c.code || !strings.Contains(res.stderr, c.want) {
					t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, c.code, c.want)
				}
			})
		}
		if res := kubectlCourier(t, "convert"); res.code != cli.ExitUsage || !strings.Contains(res.stderr, "needs -f") {
			t.Errorf("no -f: exit %d, %q", res.code, res.stderr)
		}
		if res := kubectlCourier(t, "convert", "-f", "testdata/convert-v1alpha1.yaml", "--output-version", "v1"); res.code != cli.ExitUsage {
			t.Errorf("--output-version v1: exit %d, %q", res.code, res.stderr)
		}
	})
}

// writeTemp writes content to a file of its own and returns its path. Not under
// t.TempDir: a subtest's name may hold a comma, which -f splits paths at.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "courier-convert-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := filepath.Join(dir, "manifest.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
