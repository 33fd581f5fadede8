// Command admissiongen writes config/admission's generated files (the admission
// policy, its binding and the parameter ConfigMap) from internal/authzpolicy, so
// kustomize and the Helm chart install exactly what the manager verifies.
//
//	go run ./hack/admissiongen [DIR]   (default config/admission)
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/courier-operator/courier/internal/authzpolicy"
)

func main() {
	dir := filepath.Join("config", "admission")
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := authzpolicy.RenderConfig()
	if err == nil {
		for name, data := range files {
			if err = os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "admissiongen:", err)
		os.Exit(1)
	}
}
