package tools

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// module is the operator's module path; Root looks for its go.mod.
const module = "module github.com/courier-operator/courier\n"

// Root returns the repository root: the nearest parent of the working directory
// whose go.mod declares Courier's module.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte(module)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no Courier go.mod above the working directory")
		}
		dir = parent
	}
}

// pinned says where each Go-built tool is pinned: the tools module directory
// (relative to the root) and the package to build.
var pinned = map[string][2]string{
	"kustomize":  {"hack/tools", "sigs.k8s.io/kustomize/kustomize/v5"},
	"helm":       {"hack/tools/helm", "helm.sh/helm/v3/cmd/helm"},
	"goreleaser": {"hack/tools/release", "github.com/goreleaser/goreleaser/v2"},
}

// Path returns the path of a pinned tool, building it into <root>/bin on first use.
// Concurrent callers (parallel test packages) serialize on a lock file, so a tool is
// built once. opm comes from hack/olm-bins.sh, which has its own cache and lock.
func Path(root, name string) (string, error) {
	if name == "opm" {
		cmd := exec.Command(filepath.Join(root, "hack", "olm-bins.sh"), "opm")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("hack/olm-bins.sh opm: %w", err)
		}
		return filepath.Join(strings.TrimSpace(string(out)), "opm"), nil
	}
	pin, ok := pinned[name]
	if !ok {
		return "", fmt.Errorf("unknown tool %q", name)
	}
	bin := filepath.Join(root, "bin")
	path := filepath.Join(bin, name)
	if isExecutable(path) {
		return path, nil
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(bin, "."+name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer func() { _ = lock.Close() }() // also releases the flock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if isExecutable(path) { // built by whoever held the lock before us
		return path, nil
	}
	fmt.Fprintf(os.Stderr, "tools: building %s from %s (first use)\n", name, pin[0])
	tmp := path + ".tmp"
	cmd := exec.Command("go", "-C", filepath.Join(root, pin[0]), "build", "-o", tmp, pin[1])
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	return path, os.Rename(tmp, path)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Run runs a tool with arguments in dir and returns its stdout; stderr is part of
// the error.
func Run(dir, tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", filepath.Base(tool), strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// Kustomize builds a kustomization directory (relative to root) with the pinned
// kustomize and returns the YAML stream.
func Kustomize(root, dir string) ([]byte, error) {
	k, err := Path(root, "kustomize")
	if err != nil {
		return nil, err
	}
	return Run(root, k, "build", dir)
}
