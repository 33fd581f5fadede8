// Command demo runs Courier on a throwaway local control plane: it starts etcd and
// kube-apiserver (source-built or downloaded once by hack/control-plane-bins.sh),
// installs the CRDs, runs the real courier binary against it, applies
// config/samples and keeps everything running until Ctrl-C. Then it stops every
// process and removes its temporary directory.
//
// With --check it waits until the samples are Ready, prints them and exits: CI uses
// that to prove `make demo` works.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/courier-operator/courier/test/testenv"
)

func main() {
	check := flag.Bool("check", false, "wait until the samples are Ready, print them and exit")
	timeout := flag.Duration("check-timeout", 2*time.Minute, "how long --check waits for the samples")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseDevMode(false)))
	if err := run(*check, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// demoNamespace is where the demo's Courier "runs" (its admission policy parameters).
const demoNamespace = "courier-system"

func say(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run(check bool, timeout time.Duration) error {
	root := testenv.RepoRoot()
	tmp, err := os.MkdirTemp("", "courier-demo-")
	if err != nil {
		return err
	}
	defer func() {
		_ = os.RemoveAll(tmp)
		say("removed %s", tmp)
	}()

	say("providing etcd and kube-apiserver (the first run builds them from source: ~5 min)")
	env, err := testenv.New()
	if err != nil {
		return err
	}
	say("starting a local control plane")
	if _, err := env.Start(); err != nil {
		return fmt.Errorf("starting control plane: %w", err)
	}
	defer func() {
		_ = env.Stop()
		say("control plane stopped")
	}()

	kubeconfig := filepath.Join(tmp, "kubeconfig")
	if err := writeKubeconfig(env, kubeconfig); err != nil {
		return err
	}
	kubectl := filepath.Join(env.BinaryAssetsDirectory, "kubectl")

	say("building courier")
	bin := filepath.Join(tmp, "courier")
	build := exec.Command("go", "build", "-o", bin, "./cmd/courier")
	build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building courier: %w", err)
	}
	metricsAddr, probeAddr := freeAddr(), freeAddr()
	logFile, err := os.Create(filepath.Join(tmp, "courier.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Courier's namespace holds the admission policy's parameter ConfigMap; the
	// manager installs the policy itself, as under OLM (docs/security.md).
	if out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "create", "namespace", demoNamespace).CombinedOutput(); err != nil {
		return fmt.Errorf("creating namespace %s: %w\n%s", demoNamespace, err, out)
	}
	mgr := exec.Command(bin, "--metrics-secure=false", "--metrics-bind-address="+metricsAddr,
		"--health-probe-bind-address="+probeAddr, "--rollout-coalesce-window=2s",
		"--install-admission-policy", "--namespace="+demoNamespace)
	mgr.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	mgr.Stdout, mgr.Stderr = logFile, logFile
	if err := mgr.Start(); err != nil {
		return fmt.Errorf("starting courier: %w", err)
	}
	// mgrDone closes when the manager exits; mgrErr then holds how it exited.
	var mgrErr error
	mgrDone := make(chan struct{})
	go func() { mgrErr = mgr.Wait(); close(mgrDone) }()
	defer func() {
		_ = mgr.Process.Signal(syscall.SIGTERM)
		select {
		case <-mgrDone:
		case <-time.After(20 * time.Second):
			_ = mgr.Process.Kill()
			<-mgrDone
		}
		say("courier stopped")
	}()
	say("courier is running (logs: %s, metrics: http://%s/metrics)", logFile.Name(), metricsAddr)

	samples := filepath.Join(root, "config", "samples")
	if _, err := os.Stat(filepath.Join(samples, "kustomization.yaml")); err == nil {
		say("applying config/samples")
		if out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "-k", samples).CombinedOutput(); err != nil {
			return fmt.Errorf("applying samples: %w\n%s", err, out)
		}
	}

	get := func() string {
		out, _ := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "clusterpropagations,propagations",
			"-A").CombinedOutput()
		return string(out)
	}
	if check {
		deadline := time.Now().Add(timeout)
		for {
			ready, err := samplesReady(kubectl, kubeconfig)
			if err == nil && ready {
				fmt.Print(get())
				say("samples are Ready")
				return nil
			}
			if time.Now().After(deadline) {
				fmt.Print(get())
				logs, _ := os.ReadFile(logFile.Name())
				return fmt.Errorf("samples not Ready after %s (last error: %w); courier log:\n%s", timeout, err, tail(logs, 40))
			}
			time.Sleep(time.Second)
		}
	}

	fmt.Printf(`
Courier is running on a local control plane. In another terminal:

    export KUBECONFIG=%s
    export PATH=%s:$PATH      # a matching kubectl
    kubectl get ns
    kubectl get clusterpropagations,propagations -A     # short names: cprop, prop
    kubectl get secrets -A -l app.kubernetes.io/managed-by=courier

Press Ctrl-C to stop everything and remove %s.

`, kubeconfig, env.BinaryAssetsDirectory, tmp)
	fmt.Print(get())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		say("stopping")
		return nil
	case <-mgrDone:
		logs, _ := os.ReadFile(logFile.Name())
		return fmt.Errorf("courier exited unexpectedly (%w); log:\n%s", mgrErr, tail(logs, 40))
	}
}

// samplesReady reports whether every ClusterPropagation and Propagation has Ready=True.
func samplesReady(kubectl, kubeconfig string) (bool, error) {
	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "clusterpropagations,propagations", "-A",
		"-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`).
		CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("%w: %s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return false, errors.New("no propagations yet")
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "=True") {
			return false, fmt.Errorf("not ready: %s", l)
		}
	}
	return true, nil
}

// writeKubeconfig writes an admin kubeconfig for the control plane.
func writeKubeconfig(env *envtest.Environment, path string) error {
	user, err := env.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("creating demo user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
