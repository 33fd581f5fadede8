package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/courier-operator/courier/hack/localcluster"
)

// Env is the cluster a suite runs against: a local cluster it started (with
// OLM), or an existing one from KUBECONFIG when E2E_CLUSTER=existing.
type Env struct {
	// Local is the started cluster; nil against an existing cluster.
	Local      *localcluster.Cluster
	Config     *rest.Config
	Kubeconfig string
	Kube       kubernetes.Interface
	Dyn        dynamic.Interface
	Apply      *localcluster.Applier
	// Opm is the opm binary used to render catalogs.
	Opm string
	// Root is the repository root.
	Root string
}

// Existing reports whether the suite targets an existing cluster.
func Existing() bool { return os.Getenv("E2E_CLUSTER") == "existing" }

// NewEnv starts a local cluster with OLM, or connects to KUBECONFIG's cluster when
// E2E_CLUSTER=existing (which must already run OLM).
func NewEnv(ctx context.Context, root string, log *os.File) (*Env, error) {
	e := &Env{Root: root}
	if Existing() {
		e.Kubeconfig = os.Getenv("KUBECONFIG")
		if e.Kubeconfig == "" {
			return nil, fmt.Errorf("E2E_CLUSTER=existing needs KUBECONFIG")
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", e.Kubeconfig)
		if err != nil {
			return nil, err
		}
		e.Config = cfg
		// opm is still needed to render catalogs; build/cache it.
		opm, err := toolPath(ctx, root, localcluster.Opm)
		if err != nil {
			return nil, err
		}
		e.Opm = opm
	} else {
		c, err := localcluster.Start(ctx, localcluster.Options{WithOLM: true, Log: log, Dir: os.Getenv("E2E_CLUSTER_DIR")})
		if err != nil {
			return nil, err
		}
		e.Local = c
		e.Config = c.RESTConfig()
		e.Kubeconfig = c.Kubeconfig()
		e.Opm = c.Binary(localcluster.Opm)
	}
	e.Config.QPS, e.Config.Burst = 100, 200
	var err error
	if e.Kube, err = kubernetes.NewForConfig(e.Config); err != nil {
		return nil, err
	}
	if e.Dyn, err = dynamic.NewForConfig(e.Config); err != nil {
		return nil, err
	}
	if e.Apply, err = localcluster.NewApplier(e.Config); err != nil {
		return nil, err
	}
	return e, nil
}

// Stop stops the local cluster, if the suite started one.
func (e *Env) Stop() error {
	if e == nil || e.Local == nil {
		return nil
	}
	return e.Local.Stop()
}

// toolPath returns a cached tool built by hack/olm-bins.sh.
func toolPath(ctx context.Context, root, tool string) (string, error) {
	out, err := runOutput(ctx, root, filepath.Join(root, "hack", "olm-bins.sh"), tool)
	if err != nil {
		return "", err
	}
	return filepath.Join(out, tool), nil
}
