package managerproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildOptions says where and how to compile the manager.
type BuildOptions struct {
	// RepoRoot is the module root holding cmd/courier. Empty means the root found from
	// this source file's location (the repository this package belongs to).
	RepoRoot string
	// Dir is the directory the binary is written to (required).
	Dir string
	// Race builds with the race detector (slow; for crash tests on small inputs).
	// It needs cgo, so it also turns CGO_ENABLED back on.
	Race bool
	// Output receives the compiler's output; nil means os.Stderr.
	Output *os.File
}

// RepoRoot returns the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build compiles ./cmd/courier from the working tree the way the release image does
// (Dockerfile: CGO_ENABLED=0, -trimpath, -ldflags "-s -w"), so memory figures are
// those of the shipped binary, and returns the binary's path. The Go build cache
// makes repeated builds of an unchanged tree cheap, but callers should still build
// once per run and start the binary many times.
func Build(ctx context.Context, o BuildOptions) (string, error) {
	if o.Dir == "" {
		return "", fmt.Errorf("managerproc.Build: BuildOptions.Dir is required")
	}
	root := o.RepoRoot
	if root == "" {
		root = RepoRoot()
	}
	bin := filepath.Join(o.Dir, "courier")
	args := []string{"build", "-trimpath", "-ldflags", "-s -w", "-o", bin}
	cgo := "CGO_ENABLED=0"
	if o.Race {
		args = append(args, "-race")
		cgo = "CGO_ENABLED=1"
	}
	args = append(args, "./cmd/courier")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), cgo)
	out := o.Output
	if out == nil {
		out = os.Stderr
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/courier: %w", err)
	}
	return bin, nil
}
