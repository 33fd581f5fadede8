package managerproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Options says how to start the manager.
type Options struct {
	// Binary is the manager executable (see Build). Required.
	Binary string
	// Kubeconfig is the kubeconfig file the manager uses (passed as KUBECONFIG). Required.
	Kubeconfig string
	// Args are extra flags. Start adds --metrics-secure=false and loopback
	// --metrics-bind-address / --health-probe-bind-address; an entry in Args for one
	// of those flags wins over Start's.
	Args []string
	// LogPath receives the manager's stdout and stderr (appended, so restarts of one
	// test share a log). Empty discards them.
	LogPath string
	// Env is added to the process environment (KEY=VALUE).
	Env []string
}

// Process is a running (or exited) manager process.
type Process struct {
	cmd         *exec.Cmd
	log         *os.File
	metricsAddr string
	probeAddr   string
	started     time.Time
	done        chan struct{}
	waitErr     error
	http        *http.Client
}

// Start starts the manager and returns at once; use WaitReady to wait for it.
func Start(o Options) (*Process, error) {
	if o.Binary == "" || o.Kubeconfig == "" {
		return nil, errors.New("managerproc.Start: Binary and Kubeconfig are required")
	}
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	probeAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--metrics-secure=false"}
	if !hasFlag(o.Args, "metrics-bind-address") {
		args = append(args, "--metrics-bind-address="+metricsAddr)
	} else {
		metricsAddr = flagValue(o.Args, "metrics-bind-address")
	}
	if !hasFlag(o.Args, "health-probe-bind-address") {
		args = append(args, "--health-probe-bind-address="+probeAddr)
	} else {
		probeAddr = flagValue(o.Args, "health-probe-bind-address")
	}
	args = append(args, o.Args...)

	// Not CommandContext: the caller decides when the process dies (Stop/Kill), and
	// a crash test must be able to outlive the context that started it.
	cmd := exec.Command(o.Binary, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+o.Kubeconfig), o.Env...)
	// Its own process group, so a Ctrl-C on the test does not reach it before the
	// test's cleanup stops it in order; killed with the test binary if that dies
	// first (a panic, a go test timeout), so no manager outlives its test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Process{
		cmd: cmd, metricsAddr: metricsAddr, probeAddr: probeAddr, done: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Second},
	}
	if o.LogPath != "" {
		f, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		p.log = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		p.closeLog()
		return nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		p.closeLog()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// StartedAt is when the process was started.
func (p *Process) StartedAt() time.Time { return p.started }

// MetricsURL is the manager's plain-HTTP metrics endpoint.
func (p *Process) MetricsURL() string { return "http://" + p.metricsAddr + "/metrics" }

// ProbeURL returns the URL of a probe path ("/readyz", "/healthz").
func (p *Process) ProbeURL(path string) string { return "http://" + p.probeAddr + path }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitErr is the process's exit status once Done is closed (nil for exit code 0).
func (p *Process) ExitErr() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return nil
	}
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitReady polls /readyz until it answers 200, the process exits or ctx ends.
func (p *Process) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok, _ := p.get(ctx, p.ProbeURL("/readyz")); ok {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("manager exited before it was ready: %w", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for /readyz: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// ScrapeText returns the raw /metrics page.
func (p *Process) ScrapeText(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.MetricsURL(), nil)
	if err != nil {
		return "", err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", p.MetricsURL(), resp.Status)
	}
	return string(body), nil
}

// Scrape returns the parsed /metrics page, restricted to names when given.
func (p *Process) Scrape(ctx context.Context, names ...string) (Metrics, error) {
	text, err := p.ScrapeText(ctx)
	if err != nil {
		return nil, err
	}
	return ParseMetrics(text, names...)
}

// Memory reads the process's peak and current resident set from /proc.
func (p *Process) Memory() (Memory, error) { return ReadMemory(p.PID()) }

// Stop sends SIGTERM and waits up to grace for a clean exit, then sends SIGKILL.
// It returns the exit status of a clean stop, or an error saying it had to kill.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return p.waitErr
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(grace):
	}
	p.Kill()
	return fmt.Errorf("manager did not stop within %s of SIGTERM and was killed", grace)
}

// Kill sends SIGKILL (a crash: no graceful shutdown, no lease release) and waits
// for the process to be gone.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *Process) get(ctx context.Context, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

func (p *Process) closeLog() {
	if p.log != nil {
		_ = p.log.Close()
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port nobody listens on now.
// (Another process could take it before the manager binds it; on a test machine
// that is rare enough, and the manager then exits with a clear bind error.)
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func hasFlag(args []string, name string) bool { return flagValue(args, name) != "" }

// flagValue returns the value of --name=value (or -name=value) in args.
func flagValue(args []string, name string) string {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}
