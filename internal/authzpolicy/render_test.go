package authzpolicy

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestConfigAdmissionIsInSync fails when config/admission differs from what this
// package builds: kustomize and the Helm chart would install a policy the manager's
// Guard refuses (run make manifests).
func TestConfigAdmissionIsInSync(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "config", "admission")
	files, err := RenderConfig()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("config/admission/%s differs from internal/authzpolicy (run make manifests): %v", name, err)
		}
	}
}
