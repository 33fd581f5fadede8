package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/test/managerproc"
	"github.com/courier-operator/courier/test/testenv"
)

var scheme = courierscheme.New()

// controlPlane is one etcd + kube-apiserver with the project's CRDs, the driver's
// clients, and an admin kubeconfig for the courier process.
type controlPlane struct {
	env        *envtest.Environment
	kubeconfig string
	// c is the driver's client: no client-side throttling, its writes counted by
	// writes so they can be told apart from Courier's.
	c      client.WithWatch
	cs     kubernetes.Interface
	writes *driverWrites
}

// startControlPlane starts a control plane and writes its kubeconfig into dir.
func startControlPlane(dir string) (*controlPlane, error) {
	env, err := testenv.New()
	if err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting control plane: %w", err)
	}
	cp := &controlPlane{env: env, writes: newDriverWrites()}
	ok := false
	defer func() {
		if !ok {
			_ = env.Stop()
		}
	}()
	user, err := env.AddUser(envtest.User{Name: "bench-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("creating the admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	cp.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(cp.kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	drv := rest.CopyConfig(cfg)
	// The baseline is "the physical limit": no client-side rate limit, exactly like
	// Courier's default --kube-api-qps=-1.
	drv.QPS, drv.Burst = -1, 0
	drv.UserAgent = "courier-bench"
	drv.Wrap(cp.writes.wrap)
	if cp.c, err = client.NewWithWatch(drv, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	if cp.cs, err = kubernetes.NewForConfig(drv); err != nil {
		return nil, err
	}
	ok = true
	return cp, nil
}

func (cp *controlPlane) stop() error { return cp.env.Stop() }

// writeKey names a write the way apiserver_request_total does.
type writeKey struct{ Verb, Resource, Subresource string }

func (k writeKey) String() string {
	s := k.Verb + " " + k.Resource
	if k.Subresource != "" {
		s += "/" + k.Subresource
	}
	return s
}

// writeCounts are request counts by verb and resource.
type writeCounts map[writeKey]float64

// mutatingVerbs are the verbs apiserver_request_total uses for writes (APPLY is a
// server-side-apply PATCH; a collection delete is reported as DELETE too).
var mutatingVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true}

// apiServerOwn are resources the API server writes by itself (its identity lease,
// heartbeat) or that are requests rather than writes (access reviews); they are
// left out of write counts. Courier runs without leader election by default, so it
// writes no Lease.
var apiServerOwn = map[string]bool{"leases": true}

// readVerbs are the verbs apiserver_request_total uses for reads. A WATCH is
// counted when it ends.
var readVerbs = map[string]bool{"GET": true, "LIST": true, "WATCH": true}

// apiRequests scrapes the API server's apiserver_request_total and returns the
// requests with the verbs in verbs.
func (cp *controlPlane) apiRequests(ctx context.Context, verbs map[string]bool) (writeCounts, error) {
	samples, err := cp.apiMetrics(ctx, "apiserver_request_total")
	if err != nil {
		return nil, err
	}
	out := writeCounts{}
	for _, s := range samples {
		verb, res := s.Labels["verb"], s.Labels["resource"]
		if !verbs[verb] || apiServerOwn[res] || strings.HasSuffix(res, "reviews") {
			continue
		}
		out[writeKey{verb, res, s.Labels["subresource"]}] += s.Value
	}
	return out, nil
}

// terminatedWatchers is the API server's count of Secret watchers it closed
// because they did not keep up (apiserver_terminated_watchers_total): a closed
// watch is resumed from its last resourceVersion by the client.
func (cp *controlPlane) terminatedWatchers(ctx context.Context) (float64, error) {
	samples, err := cp.apiMetrics(ctx, "apiserver_terminated_watchers_total")
	if err != nil {
		return 0, err
	}
	return samples.Sum("apiserver_terminated_watchers_total", map[string]string{"resource": "secrets"}), nil
}

// apiMetrics scrapes the API server's metrics with the given names.
func (cp *controlPlane) apiMetrics(ctx context.Context, names ...string) (managerproc.Metrics, error) {
	body, err := cp.cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics on the API server: %w", err)
	}
	return managerproc.ParseMetrics(string(body), names...)
}

// sub returns c - o, dropping zeros.
func (c writeCounts) sub(o writeCounts) writeCounts {
	out := writeCounts{}
	for k, v := range c {
		if d := v - o[k]; d != 0 {
			out[k] = d
		}
	}
	for k, v := range o {
		if _, ok := c[k]; !ok && v != 0 {
			out[k] = -v
		}
	}
	return out
}

// total sums the counts whose resource (and subresource) match; "" matches any.
func (c writeCounts) total(resource, subresource string) float64 {
	var t float64
	for k, v := range c {
		if (resource == "" || k.Resource == resource) && (subresource == "*" || k.Subresource == subresource) {
			t += v
		}
	}
	return t
}

// byKey renders the counts as a sorted map for the JSON report.
func (c writeCounts) byKey() map[string]float64 {
	out := map[string]float64{}
	for k, v := range c {
		out[k.String()] = v
	}
	return out
}

func (c writeCounts) String() string {
	if len(c) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range c {
		parts = append(parts, fmt.Sprintf("%s=%g", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// writeWindow measures Courier's requests (writes, or reads) between begin and end:
// the API server's count minus the driver's own.
type writeWindow struct {
	cp    *controlPlane
	verbs map[string]bool
	api0  writeCounts
	drv0  writeCounts
}

// beginWrites opens a window on Courier's writes.
func (cp *controlPlane) beginWrites(ctx context.Context) (*writeWindow, error) {
	return cp.beginRequests(ctx, mutatingVerbs)
}

// beginRequests opens a window on Courier's requests with the verbs in verbs.
func (cp *controlPlane) beginRequests(ctx context.Context, verbs map[string]bool) (*writeWindow, error) {
	api, err := cp.apiRequests(ctx, verbs)
	if err != nil {
		return nil, err
	}
	return &writeWindow{cp: cp, verbs: verbs, api0: api, drv0: cp.writes.snapshot(verbs)}, nil
}

// end returns Courier's requests since begin.
func (w *writeWindow) end(ctx context.Context) (writeCounts, error) {
	api, err := w.cp.apiRequests(ctx, w.verbs)
	if err != nil {
		return nil, err
	}
	drv := w.cp.writes.snapshot(w.verbs).sub(w.drv0)
	return api.sub(w.api0).sub(drv), nil
}
