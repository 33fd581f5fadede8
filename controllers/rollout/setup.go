package rollout

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/courier-operator/courier/pkg/metastream"
)

// RBAC: workloads are read from the (label-selected) cache and patched with
// server-side apply; inputs are watched metadata-only and read one by one; events
// are recorded on workloads.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;patch
// A CronJob with courier.dev/rollout-run-now starts one Job when it rolls.
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=create
// Argo Rollouts are rolled when their CRD is installed (other custom kinds get their
// RBAC from an aggregated ClusterRole: config/rbac/extra-kinds-example.yaml).
// +kubebuilder:rbac:groups=argoproj.io,resources=rollouts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// CacheByObject returns the manager cache entries this package needs: only workloads
// that opted in (courier.dev/rollout-on-change=true) are cached. ConfigMaps and
// Secrets are not in the manager's cache for this controller: it streams their
// events (pkg/metastream) without caching them.
func CacheByObject() map[client.Object]cache.ByObject {
	optIn := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{LabelOptIn: "true"})}
	return map[client.Object]cache.ByObject{
		&appsv1.Deployment{}:  optIn,
		&appsv1.StatefulSet{}: optIn,
		&appsv1.DaemonSet{}:   optIn,
		&batchv1.CronJob{}:    optIn,
	}
}

// SetupWithManager registers one controller per workload kind (Deployment,
// StatefulSet, DaemonSet, CronJob, and, once the API server serves them, Argo
// Rollouts and Options.CustomKinds), all built from the same generic declaration and
// sharing one syncer and the manager's metadata streams.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.Streams == nil {
		return fmt.Errorf("rollout: Options.Streams (the manager's metastream.Hub) is required")
	}
	r := newSyncer(opts)
	inputs := opts.Streams
	if err := setupKind(mgr, r, inputs, deployments, nil); err != nil {
		return err
	}
	if err := setupKind(mgr, r, inputs, statefulSets, nil); err != nil {
		return err
	}
	if err := setupKind(mgr, r, inputs, daemonSets, nil); err != nil {
		return err
	}
	if err := setupKind(mgr, r, inputs, cronJobs, nil); err != nil {
		return err
	}
	return mgr.Add(&lateKinds{mgr: mgr, r: r, inputs: inputs, kinds: append([]CustomKind{ArgoRollouts}, r.opts.CustomKinds...),
		every: r.opts.KindPollInterval, log: mgr.GetLogger().WithName("rollout")})
}

// setupKind registers the field index and the controller for one workload kind,
// cached by the manager or, for a custom kind, by cl, which it adds to the manager.
func setupKind[T client.Object](mgr ctrl.Manager, r *syncer, inputs *metastream.Hub, k workloadKind[T], cl cluster.Cluster) error {
	indexer := mgr.GetFieldIndexer()
	workloads := mgr.GetClient()
	if cl != nil {
		indexer, workloads = cl.GetFieldIndexer(), cl.GetClient()
	}
	// Indexed before the cache starts: an informer takes indexes only until then.
	if err := indexer.IndexField(context.Background(), k.New(), inputsIndex, k.indexInputs); err != nil {
		return fmt.Errorf("indexing %s inputs: %w", k.name, err)
	}
	if cl != nil {
		if err := mgr.Add(cl); err != nil {
			return err
		}
	}
	if k.finished != nil {
		r.cap.addScan(capScan(k, workloads, r.opts.ProgressDeadline))
	}
	return completeController(mgr, r, inputs, k, cl)
}
