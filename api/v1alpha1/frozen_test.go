package v1alpha1_test

import (
	"os"
	"path/filepath"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/courier-operator/courier/internal/crdcompat"
)

// The v1alpha1 schema shipped in bundle 0.1.0; clusters store objects written
// against it. These tests fail on any change to the generated CRDs (from the
// kubebuilder markers in this package) that an upgrade from 0.1.0 could break
// on. The released files are never edited: see testdata/released/v0.1.0/README.md.
// currentDirs are the installed CRDs and config/crd/next, the CRDs with v1beta1
// stored, which keep serving v1alpha1.
const releasedDir = "testdata/released/v0.1.0"

var currentDirs = []string{"../../config/crd/bases", "../../config/crd/next"}

func TestV1alpha1SchemaIsFrozen(t *testing.T) {
	for _, file := range []string{
		"courier.dev_clusterpropagations.yaml",
		"courier.dev_propagations.yaml",
	} {
		for _, currentDir := range currentDirs {
			t.Run(filepath.Join(filepath.Base(currentDir), file), func(t *testing.T) {
				released := decodeFile(t, filepath.Join(releasedDir, file))
				current := decodeFile(t, filepath.Join(currentDir, file))
				violations := crdcompat.Compare(released, current, "v1alpha1")
				for _, v := range violations {
					t.Errorf("%s", v)
				}
				if len(violations) > 0 {
					t.Logf("%d change(s) to v1alpha1 would break an upgrade from 0.1.0; "+
						"undo them or make them in a new API version (never edit %s)", len(violations), releasedDir)
				}
			})
		}
	}
}

func decodeFile(t *testing.T, path string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := crdcompat.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return crd
}
