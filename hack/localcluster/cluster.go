package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options configures Start. The zero value starts a cluster without OLM in a
// temporary directory that Stop removes.
type Options struct {
	// WithOLM also installs OLM: its CRDs, namespaces, OperatorGroups and OLMConfig,
	// and runs the olm and catalog operators as local processes.
	WithOLM bool
	// Dir holds PKI, kubeconfigs, etcd data and logs. Empty means a temporary
	// directory, removed by Stop; a given Dir is kept (with its logs) after Stop, and
	// its previous cluster state is wiped on Start.
	Dir string
	// BinDir, when set, is searched first for every binary; the rest are built and
	// cached by the repository's hack/*-bins.sh scripts.
	BinDir string
	// RepoRoot is the repository holding hack/; found automatically when empty.
	RepoRoot string
	// Log receives progress lines (binary builds, component start-up). Default: none.
	Log io.Writer
	// StartTimeout bounds start-up after the binaries exist. Default 2 minutes.
	StartTimeout time.Duration
}

// Cluster is a running local control plane: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok with one fake node, all on
// 127.0.0.1, each as a child process.
type Cluster struct {
	opts    Options
	dir     string
	tempDir bool
	bins    map[string]string
	pki     *pki

	apiPort    int
	kubeconfig string
	restConfig *rest.Config

	mu    sync.Mutex
	procs []*process // start order; stopped in reverse
	api   *process
	olm   *olmState
}

// Start brings up a cluster and returns once its fake node is Ready (and, with
// WithOLM, OLM's operators are running). On error everything started is stopped.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.RepoRoot == "" {
		opts.RepoRoot = repoRoot()
	}
	c := &Cluster{opts: opts, dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "localcluster-"); err != nil {
			return nil, err
		}
		c.tempDir = true
	} else {
		for _, sub := range []string{"etcd", "pki", "logs", "kcm", "scheduler", "olm"} {
			if err := os.RemoveAll(filepath.Join(c.dir, sub)); err != nil {
				return nil, err
			}
		}
	}
	// c, not the (nil) result, is what has to be torn down on failure.
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	if err := os.MkdirAll(c.path("logs"), 0o755); err != nil {
		return nil, err
	}

	begin := time.Now()
	if c.bins, err = findBinaries(ctx, opts.RepoRoot, opts.BinDir, opts.WithOLM, opts.Log); err != nil {
		return nil, err
	}
	c.logf("binaries ready in %s", time.Since(begin).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	started := time.Now()
	if err := c.startControlPlane(ctx); err != nil {
		return nil, err
	}
	c.logf("control plane with a Ready node in %s", time.Since(started).Round(time.Millisecond))
	if opts.WithOLM {
		olmStart := time.Now()
		if err := c.installOLM(ctx); err != nil {
			return nil, fmt.Errorf("install OLM: %w", err)
		}
		c.logf("OLM running in %s", time.Since(olmStart).Round(time.Millisecond))
	}
	return c, nil
}

// Kubeconfig returns the path of the cluster-admin kubeconfig.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// RESTConfig returns a fresh copy of the cluster-admin client configuration.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// Dir returns the cluster's working directory (PKI, kubeconfigs, logs/).
func (c *Cluster) Dir() string { return c.dir }

// Binary returns the path of one of the binaries the cluster uses (see the
// constants, e.g. Kubectl or Opm), or "" if it was not needed.
func (c *Cluster) Binary(name string) string { return c.bins[name] }

// Stop stops every component, newest first, and removes the working directory if
// Start created it. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, procs[i].stop(10*time.Second))
	}
	if c.tempDir && c.dir != "" {
		errs = append(errs, os.RemoveAll(c.dir))
		c.dir = ""
	}
	return errors.Join(errs...)
}

// RestartAPIServer stops kube-apiserver and starts it again on the same port and
// storage, returning once it is ready. Clients and the other components reconnect.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	begin := time.Now()
	// kube-apiserver stops serving at once on SIGTERM but then waits for open
	// watches to drain (~30 s with kcm, scheduler and kwok watching); all state is
	// in etcd, so after a short grace it is killed.
	if err := c.api.stop(5 * time.Second); err != nil {
		return err
	}
	stopped := time.Now()
	if err := c.api.start(); err != nil {
		return err
	}
	if err := c.waitAPIServer(ctx); err != nil {
		return err
	}
	c.logf("kube-apiserver restarted: stop %s, start to ready %s",
		stopped.Sub(begin).Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
	return nil
}

func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.dir}, elem...)...)
}

func (c *Cluster) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(c.opts.Log, "localcluster: "+format+"\n", args...)
}

// run registers and starts a component process.
func (c *Cluster) run(p *process) error {
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p.start()
}

func (c *Cluster) newProcess(name string, args ...string) *process {
	return newProcess(c.path("logs"), name, c.bins[name], args...)
}

// clientset returns an admin clientset.
func (c *Cluster) clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(c.RESTConfig())
}

// loadRESTConfig reads the admin kubeconfig into c.restConfig.
func (c *Cluster) loadRESTConfig() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 100, 200
	c.restConfig = cfg
	return nil
}

// freePorts reserves n distinct free loopback ports. They are released before the
// components bind them; a collision in that window makes the component fail fast.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
