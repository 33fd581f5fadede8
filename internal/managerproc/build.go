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
	Race bool
	// Output receives the compiler's output; nil means os.Stderr.
	Output *os.File
}

// RepoRoot returns the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build compiles ./cmd/courier from the working tree with `go build` and returns the
// binary's path. The Go build cache makes repeated builds of an unchanged tree cheap,
// but callers should still build once per run and start the binary many times.
func Build(ctx context.Context, o BuildOptions) (string, error) {
	if o.Dir == "" {
		return "", fmt.Errorf("managerproc.Build: BuildOptions.Dir is required")
	}
	root := o.RepoRoot
	if root == "" {
		root = RepoRoot()
	}
	bin := filepath.Join(o.Dir, "courier")
	args := []string{"build", "-o", bin}
	if o.Race {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/courier")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
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
