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

	"github.com/courier-operator/courier/pkg/metastream"
)

// RBAC: workloads are read from the (label-selected) cache and patched with
// server-side apply; inputs are watched metadata-only and read one by one; events
// are recorded on workloads.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;patch
// A CronJob with courier.dev/rollout-run-now starts one Job when it rolls.
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=create
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
// StatefulSet, DaemonSet, CronJob), all built from the same generic declaration and
// sharing one syncer and the manager's metadata streams.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.Streams == nil {
		return fmt.Errorf("rollout: Options.Streams (the manager's metastream.Hub) is required")
	}
	r := newSyncer(opts)
	inputs := opts.Streams
	if err := setupKind(mgr, r, inputs, deployments); err != nil {
		return err
	}
	if err := setupKind(mgr, r, inputs, statefulSets); err != nil {
		return err
	}
	if err := setupKind(mgr, r, inputs, daemonSets); err != nil {
		return err
	}
	return setupKind(mgr, r, inputs, cronJobs)
}

// setupKind registers the field index and the controller for one workload kind.
func setupKind[T client.Object](mgr ctrl.Manager, r *syncer, inputs *metastream.Hub, k workloadKind[T]) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), k.New(), inputsIndex, k.indexInputs); err != nil {
		return fmt.Errorf("indexing %s inputs: %w", k.name, err)
	}
	if k.finished != nil {
		r.cap.scans = append(r.cap.scans, capScan(k, r.opts.ProgressDeadline))
	}
	return completeController(mgr, r, inputs, k)
}
