// Command demo runs Courier on a throwaway local control plane: it starts etcd and
// kube-apiserver (source-built or downloaded once by hack/control-plane-bins.sh),
// installs the CRDs, runs the real courier binary against it, applies
// config/samples and the rollout demo (rollout.yaml: a ConfigMap, and a Deployment
// and a CronJob that consume it) and keeps everything running until Ctrl-C. Then it
// stops every process, removes its temporary directory and exits 0.
//
// With --check it waits until the samples are Ready and the rollout demo is
// tracked, changes the ConfigMap, waits for both rollouts, prints them and exits: CI
// uses that to prove `make demo` works.
package main

import (
	"context"
	_ "embed"
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

	"github.com/courier-operator/courier/internal/cli"
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

// rolloutDemo is the rollout-on-change part of the demo (namespace demo-rollout).
//
//go:embed rollout.yaml
var rolloutDemo []byte

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

	say("building courier and its kubectl plugin")
	bin := filepath.Join(tmp, "courier")
	// kubectl finds the plugin on the PATH as kubectl-courier: `kubectl courier`.
	build := exec.Command("go", "build", "-o", tmp+string(filepath.Separator), "./cmd/courier", "./cmd/kubectl-courier")
	build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building courier: %w", err)
	}
	pluginPath := tmp + string(filepath.ListSeparator) + os.Getenv("PATH")
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
		"--health-probe-bind-address="+probeAddr, coalesceWindow,
		"--install-admission-policy", "--namespace="+demoNamespace)
	mgr.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	mgr.Stdout, mgr.Stderr = logFile, logFile
	// Its own process group: Ctrl-C reaches the demo, which stops Courier itself
	// (the terminal's SIGINT would otherwise stop it first, as a crash).
	mgr.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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

	say("applying the rollout demo (namespace demo-rollout)")
	apply := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-")
	apply.Stdin = strings.NewReader(string(rolloutDemo))
	if out, err := apply.CombinedOutput(); err != nil {
		return fmt.Errorf("applying the rollout demo: %w\n%s", err, out)
	}

	k := func(args ...string) (string, error) {
		out, err := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		return string(out), err
	}
	get := func() string {
		out, _ := k("get", "clusterpropagations,propagations", "-A")
		return out
	}
	if check {
		logs := func() string { b, _ := os.ReadFile(logFile.Name()); return tail(b, 40) }
		if err := waitFor(timeout, func() (bool, error) { return samplesReady(kubectl, kubeconfig) }); err != nil {
			fmt.Print(get())
			return fmt.Errorf("samples not Ready after %s (last error: %w); courier log:\n%s", timeout, err, logs())
		}
		fmt.Print(get())
		say("samples are Ready")
		if err := waitFor(timeout, func() (bool, error) { return rolloutTracked(k) }); err != nil {
			return fmt.Errorf("the rollout demo is not tracked after %s (%w); courier log:\n%s", timeout, err, logs())
		}
		if out, err := k(changeConfig...); err != nil {
			return fmt.Errorf("changing the demo ConfigMap: %w\n%s", err, out)
		}
		if err := waitFor(timeout, func() (bool, error) { return rolledOut(k) }); err != nil {
			return fmt.Errorf("the rollout demo did not roll after %s (%w); courier log:\n%s", timeout, err, logs())
		}
		out, _ := k(showRollout...)
		fmt.Print(out)
		say("the Deployment and the CronJob rolled once, and the CronJob started its Job")
		// The plugin, found by kubectl on the PATH as a user installs it.
		status := exec.Command(kubectl, "courier", "status", "-A", coalesceWindow, "--kubeconfig", kubeconfig) // kubectl takes no flags before a plugin's name
		status.Env = append(os.Environ(), "PATH="+pluginPath)
		statusOut, err := status.CombinedOutput()
		fmt.Print(string(statusOut))
		if code := status.ProcessState.ExitCode(); err != nil && code != cli.ExitNotReady {
			return fmt.Errorf("kubectl courier status: %w", err)
		}
		say("kubectl courier status ran as a kubectl plugin")
		return nil
	}

	fmt.Printf(`
Courier is running on a local control plane. In another terminal:

    export KUBECONFIG=%s
    export PATH=%s:%s:$PATH      # a matching kubectl and kubectl-courier
    kubectl get ns
    kubectl get clusterpropagations,propagations -A     # short names: cprop, prop
    kubectl courier status -A %s      # propagations, workloads, why a change waits
    kubectl get secrets -A -l app.kubernetes.io/managed-by=courier

Rollout on change (namespace demo-rollout: Deployment web and CronJob report read
ConfigMap app-config). Change it, then see each roll exactly once:

    kubectl %s
    kubectl %s

Press Ctrl-C to stop everything and remove %s.

`, kubeconfig, env.BinaryAssetsDirectory, tmp, coalesceWindow, shellJoin(changeConfig), shellJoin(showRollout), tmp)
	fmt.Print(get())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		say("stopping")
		return nil
	case <-mgrDone:
		if ctx.Err() != nil { // stopped by the same Ctrl-C
			say("stopping")
			return nil
		}
		logs, _ := os.ReadFile(logFile.Name())
		return fmt.Errorf("courier exited unexpectedly (%w); log:\n%s", mgrErr, tail(logs, 40))
	}
}

// coalesceWindow is the demo manager's coalescing window, short so a change rolls
// at once; kubectl courier is told the same, as it cannot read the manager's flags.
const coalesceWindow = "--rollout-coalesce-window=2s"

// changeConfig is the kubectl command that changes the demo's ConfigMap.
var changeConfig = []string{"-n", "demo-rollout", "patch", "configmap", "app-config", "--type=merge", "-p", `{"data":{"LOG_LEVEL":"debug"}}`}

// showRollout is the kubectl command that shows the rollouts: the events Courier
// recorded on the workloads.
var showRollout = []string{"-n", "demo-rollout", "get", "events", "-o", "custom-columns=KIND:.involvedObject.kind,NAME:.involvedObject.name,REASON:.reason,MESSAGE:.message",
	"--field-selector", "reason=RolledOut"}

// rolloutTracked reports whether Courier recorded its baseline on both demo workloads.
func rolloutTracked(k func(...string) (string, error)) (bool, error) {
	out, err := k("-n", "demo-rollout", "get", "deployment/web", "cronjob/report",
		"-o", `jsonpath={range .items[*]}{.metadata.annotations.courier\.dev/applied-config-hash}{"\n"}{end}`)
	if err != nil {
		return false, fmt.Errorf("%w: %s", err, out)
	}
	return len(strings.Fields(out)) == 2, nil
}

// rolledOut reports whether both demo workloads rolled and the CronJob started its
// Job.
func rolledOut(k func(...string) (string, error)) (bool, error) {
	out, err := k(showRollout...)
	if err != nil {
		return false, fmt.Errorf("%w: %s", err, out)
	}
	jobs, err := k("-n", "demo-rollout", "get", "jobs", "-o", "name")
	if err != nil {
		return false, fmt.Errorf("%w: %s", err, jobs)
	}
	return strings.Contains(out, "web") && strings.Contains(out, "report") && strings.Contains(jobs, "job.batch/report-"), nil
}

// shellJoin renders args as a shell command line, quoting what the shell would
// otherwise split or expand.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, ` "'{}$*?;&|<>()[]\`) {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// waitFor polls done every second until it reports true or timeout passes; the
// error is the last one done returned.
func waitFor(timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("not yet")
			}
			return err
		}
		time.Sleep(time.Second)
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
