package framework

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/courier-operator/courier/hack/localcluster"
)

// ServiceAccountKubeconfig writes a kubeconfig into dir that authenticates as
// ServiceAccount ns/sa with a bearer token from the TokenRequest API, so a local
// process has exactly that account's RBAC.
func (e *Env) ServiceAccountKubeconfig(ctx context.Context, ns, sa, dir string) (string, error) {
	tr, err := e.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for %s/%s: %w", ns, sa, err)
	}
	data, err := localcluster.BearerTokenKubeconfig(e.Config, tr.Status.Token)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, ns+"-"+sa+".kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// GoBuild builds package pkg (e.g. ./cmd/courier) of the repository into dir.
func GoBuild(ctx context.Context, root, pkg, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	if _, err := runOutput(ctx, root, "go", "build", "-o", out, pkg); err != nil {
		return "", err
	}
	return out, nil
}

// Process is a binary the suite runs locally (the operator under test).
type Process struct {
	cmd  *exec.Cmd
	done chan error
	Log  string
}

// StartProcess runs bin with args and extra env, logging to logPath. The process
// is killed if the test process dies.
func StartProcess(bin string, args, env []string, logPath string) (*Process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan error, 1), Log: logPath}
	go func() { p.done <- cmd.Wait(); _ = f.Close() }()
	return p, nil
}

// Running reports whether the process is still alive.
func (p *Process) Running() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to 30 s before SIGKILL.
func (p *Process) Stop() {
	if p == nil || !p.Running() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Tail returns the last n bytes of the process log.
func (p *Process) Tail(n int) string {
	data, _ := os.ReadFile(p.Log)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

func runOutput(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}
