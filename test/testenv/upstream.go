package testenv

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
)

// Upstream projects whose manifests tests install, fetched through the Go module
// proxy at test time (never committed).
const (
	// ArgoRolloutsModule is Argo Rollouts, whose Rollout CRD the rollout suites install.
	ArgoRolloutsModule = "github.com/argoproj/argo-rollouts@v1.10.2"
	// ArgoRolloutsCRD is the Rollout CRD inside ArgoRolloutsModule.
	ArgoRolloutsCRD = "manifests/crds/rollout-crd.yaml"
)

// ModuleFiles copies files (paths inside the module) of module ("path@version") into
// dir, from the module's zip in the Go module cache, downloading it through the
// proxy first. It reads the zip rather than building the module, so a module that
// asks for a newer Go than the machine's ("requires go >= ...": go mod download
// reports it after fetching and verifying the zip) still serves its manifests.
func ModuleFiles(dir, module string, files ...string) error {
	out, _ := exec.Command("go", "mod", "download", "-json", module).Output()
	var dl struct{ Zip, Error string }
	if err := json.Unmarshal(out, &dl); err != nil {
		return fmt.Errorf("go mod download %s: %w (output %q)", module, err, out)
	}
	if dl.Zip == "" {
		return fmt.Errorf("go mod download %s: %s", module, dl.Error)
	}
	z, err := zip.OpenReader(dl.Zip)
	if err != nil {
		return fmt.Errorf("go mod download %s: %w (%s)", module, err, dl.Error)
	}
	defer func() { _ = z.Close() }()
	for _, name := range files {
		f, err := z.Open(path.Join(module, name))
		if err != nil {
			return fmt.Errorf("%s in %s: %w", name, module, err)
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s in %s: %w", name, module, err)
		}
		if err := os.WriteFile(filepath.Join(dir, path.Base(name)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
