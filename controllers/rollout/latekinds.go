package rollout

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/courier-operator/courier/pkg/metastream"
)

// lateKinds starts the controller of each custom workload kind once the API server
// serves it. A kind whose CRD is not installed is skipped with one log line and
// picked up within one poll (Options.KindPollInterval) of its CRD appearing: no
// restart, and no crash loop, which a controller for an unserved kind in the
// manager's cache would cause (the cache cannot start an informer it cannot map).
//
// Each kind gets a cache of its own (a cluster.Cluster added to the manager),
// selected by the opt-in label like the manager's cache of the built-in kinds: the
// manager's cache is configured when it is built and cannot select a kind it could
// not map then. A kind stays picked up: if its CRD is removed, its informer logs
// watch errors until the CRD is back.
type lateKinds struct {
	mgr    ctrl.Manager
	r      *syncer
	inputs *metastream.Hub
	kinds  []CustomKind
	every  time.Duration
	log    logr.Logger
}

// Start polls until every kind is picked up or ctx ends.
func (l *lateKinds) Start(ctx context.Context) error {
	waiting := slices.Clone(l.kinds)
	told := map[string]bool{}
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		waiting = slices.DeleteFunc(waiting, func(c CustomKind) bool {
			log := l.log.WithValues("kind", c.GVK.String())
			if _, err := l.mgr.GetRESTMapper().RESTMapping(c.GVK.GroupKind(), c.GVK.Version); err != nil {
				if !told[c.GVK.String()] {
					told[c.GVK.String()] = true
					log.Info("workload kind not served (its CRD is not installed); it is picked up when it is", "reason", err.Error())
				}
				return false
			}
			if err := setupCustomKind(l.mgr, l.r, l.inputs, c); err != nil {
				// Nothing here talks to the API server: an error is a wiring bug, and
				// retrying would only repeat it.
				log.Error(err, "cannot roll out workloads of this kind")
				return true
			}
			log.Info("rolling out opted-in workloads of this kind", "templatePath", c.TemplatePath)
			return true
		})
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// NeedLeaderElection is false: every replica picks kinds up, so their caches are
// warm on a new leader (whose controllers then start at once).
func (l *lateKinds) NeedLeaderElection() bool { return false }

// setupCustomKind gives kind c its label-selected cache, added to the manager, and
// its controller.
func setupCustomKind(mgr ctrl.Manager, r *syncer, inputs *metastream.Hub, c CustomKind) error {
	cl, err := cluster.New(mgr.GetConfig(), func(o *cluster.Options) {
		o.Scheme = mgr.GetScheme()
		o.HTTPClient = mgr.GetHTTPClient()
		o.MapperProvider = func(*rest.Config, *http.Client) (meta.RESTMapper, error) { return mgr.GetRESTMapper(), nil }
		o.Logger = mgr.GetLogger()
		o.Cache.DefaultLabelSelector = labels.SelectorFromSet(labels.Set{LabelOptIn: "true"})
		o.Cache.DefaultTransform = cache.TransformStripManagedFields()
		o.Cache.DefaultNamespaces = r.opts.Scope.CacheNamespaces() // the manager's scope
		// Read unstructured workloads from this cache, not from the API server.
		o.Client.Cache = &client.CacheOptions{Unstructured: true}
	})
	if err != nil {
		return err
	}
	return setupKind(mgr, r, inputs, c.workloadKind(), cl)
}
