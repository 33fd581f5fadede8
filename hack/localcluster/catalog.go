package localcluster

import (
	"context"
	"fmt"
	"net"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// catalogServer is one `opm serve` process behind a CatalogSource.
type catalogServer struct {
	proc    *process
	address string
}

// ServeCatalog serves the file-based catalog in dir with `opm serve` on a free
// loopback port and creates (or repoints) the grpc CatalogSource olm/<name> at it,
// returning once OLM's catalog operator reports the connection READY. Serving a
// name again replaces its content: the new server starts first, the CatalogSource
// is repointed (a changed address makes OLM reconnect and re-resolve every
// subscription that uses the catalog), then the old server stops.
//
// Bundles in the catalog should embed their manifests (olm.bundle.object
// properties, no image): OLM then installs them directly instead of running a
// bundle-unpack Job that a kwok node cannot run.
func (c *Cluster) ServeCatalog(ctx context.Context, name, dir string) error {
	if c.olm == nil {
		return fmt.Errorf("cluster started without OLM")
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	address := hostPort(ports[0])
	gen := len(c.procs)
	// pprof defaults to localhost:6060 and a taken port is fatal: off, so several
	// servers (two catalogs, or old and new during a replacement) can run.
	p := c.newProcess(Opm, "serve", dir, fmt.Sprintf("--port=%d", ports[0]), "--pprof-addr=",
		"--termination-log="+c.path("logs", fmt.Sprintf("opm-%s-%d.termination-log", name, gen)))
	p.name = fmt.Sprintf("opm-%s-%d", name, gen)
	p.log = c.path("logs", p.name+".log")
	if err := c.run(p); err != nil {
		return err
	}
	if err := waitTCP(ctx, address, p); err != nil {
		return err
	}

	a, err := NewApplier(c.RESTConfig())
	if err != nil {
		return err
	}
	cs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1",
		"kind":       "CatalogSource",
		"metadata":   map[string]any{"name": name, "namespace": OLMNamespace},
		"spec": map[string]any{
			"sourceType":  "grpc",
			"address":     address,
			"displayName": name,
			"publisher":   "localcluster",
		},
	}}
	if _, err := a.ApplyObject(ctx, cs); err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if done, perr := p.exited(); done {
			return false, p.exitError(perr)
		}
		got, err := dyn.Resource(CatalogSourceGVR).Namespace(OLMNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		state, _, _ := unstructured.NestedString(got.Object, "status", "connectionState", "lastObservedState")
		addr, _, _ := unstructured.NestedString(got.Object, "status", "connectionState", "address")
		return state == "READY" && addr == address, nil
	})
	if err != nil {
		return fmt.Errorf("CatalogSource %s/%s not READY at %s: %w", OLMNamespace, name, address, err)
	}
	if old := c.olm.catalogs[name]; old != nil {
		_ = old.proc.stop(5 * time.Second)
	}
	c.olm.catalogs[name] = &catalogServer{proc: p, address: address}
	return nil
}

// waitTCP waits until address accepts connections, failing early if p exits.
func waitTCP(ctx context.Context, address string, p *process) error {
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if done, perr := p.exited(); done {
			return false, p.exitError(perr)
		}
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", address)
		if err != nil {
			return false, nil
		}
		_ = conn.Close()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%s not listening on %s: %w\n%s", p.name, address, err, p.tail(2000))
	}
	return nil
}
