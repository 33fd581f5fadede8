package controllers

import (
	"fmt"
	"maps"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/courier-operator/courier/controllers/propagation"
	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/internal/nsscope"
	"github.com/courier-operator/courier/internal/schedule"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// Options carries the manager-wide settings every controller may need. Feature
// options are derived from it in Setup so the flags stay in one place (cmd/courier).
type Options struct {
	// ExcludedNamespaces are never targeted by any propagation (glob patterns).
	ExcludedNamespaces []string
	// Scope is the namespaces a namespaced install is limited to (zero: every
	// namespace). The manager's cache is limited to them by cmd/courier; the
	// controllers keep their watches, targets and writes inside them.
	Scope nsscope.Scope
	// MaxConcurrentReconciles bounds how many primaries of one kind reconcile at once.
	MaxConcurrentReconciles int
	// ChildParallelism bounds the concurrent writes one reconcile makes for its children.
	ChildParallelism int
	// RolloutWindow is how long rollout-on-change waits for more input changes before
	// rolling a workload, so several changes coalesce into one rollout.
	RolloutWindow time.Duration
	// RolloutWindows are the weekly windows rollouts happen in, for workloads
	// without courier.dev/rollout-windows (none: any time).
	RolloutWindows schedule.Windows
	// RolloutMinInterval is the least time between two rollouts of one workload,
	// for workloads without courier.dev/rollout-min-interval (zero: none).
	RolloutMinInterval time.Duration
	// MaxConcurrentRollouts caps the workloads rolling at once (zero: no cap).
	MaxConcurrentRollouts int
	// RolloutKinds are more workload kinds with a pod template (custom resources)
	// that rollout-on-change rolls once the API server serves them.
	RolloutKinds []rollout.CustomKind
}

// feature is one controller package's entry points.
type feature struct {
	name  string
	setup func(ctrl.Manager, Options, shared) error
	cache func() map[client.Object]cache.ByObject
}

// shared is what every feature of one manager uses together.
type shared struct {
	// streams is the manager's one metadata stream hub: one LIST+WATCH per kind,
	// whichever controllers stream it.
	streams *metastream.Hub
}

// features lists every controller the manager runs, in registration order.
var features = []feature{
	{name: "propagation", setup: func(mgr ctrl.Manager, o Options, sh shared) error {
		return propagation.SetupWithManager(mgr, propagation.Options{
			ExcludedNamespaces: o.ExcludedNamespaces, Scope: o.Scope, MaxConcurrentReconciles: o.MaxConcurrentReconciles, ChildParallelism: o.ChildParallelism,
			Streams: sh.streams, Metrics: Metrics,
		})
	}, cache: propagation.CacheByObject},
	{name: "rollout", setup: func(mgr ctrl.Manager, o Options, sh shared) error {
		return rollout.SetupWithManager(mgr, rollout.Options{Window: o.RolloutWindow, MaxConcurrentReconciles: o.MaxConcurrentReconciles,
			Windows: o.RolloutWindows, MinInterval: o.RolloutMinInterval, MaxConcurrentRollouts: o.MaxConcurrentRollouts,
			CustomKinds: o.RolloutKinds, Scope: o.Scope, Streams: sh.streams, Metrics: Metrics})
	}, cache: rollout.CacheByObject},
}

// Metrics are the reconcile DSL's metrics of every Courier controller, named
// courier_* and registered with controller-runtime's registry (served on /metrics).
var Metrics = reconciler.NewMetrics("courier")

func init() { metrics.Registry.MustRegister(Metrics.Collectors()...) }

// Setup registers every controller with the manager.
func Setup(mgr ctrl.Manager, opts Options) error {
	streams, err := metastream.NewForManager(mgr, opts.Scope.Names()...)
	if err != nil {
		return err
	}
	sh := shared{streams: streams}
	for _, f := range features {
		if err := f.setup(mgr, opts, sh); err != nil {
			return fmt.Errorf("setting up %s controller: %w", f.name, err)
		}
	}
	return nil
}

// CacheByObject merges the cache selections of every controller. Two features asking
// for the same type with different selectors is a programming error: a type has one
// informer, so the second selector would silently hide objects from the first.
func CacheByObject() (map[client.Object]cache.ByObject, error) {
	merged := map[client.Object]cache.ByObject{}
	seen := map[string]string{}
	for _, f := range features {
		if f.cache == nil {
			continue
		}
		for obj, by := range f.cache() {
			// PartialObjectMetadata entries differ only by their GVK, so it is part of the key.
			key := fmt.Sprintf("%T %s", obj, obj.GetObjectKind().GroupVersionKind())
			if other, ok := seen[key]; ok {
				return nil, fmt.Errorf("cache for %s requested by both %s and %s", key, other, f.name)
			}
			seen[key] = f.name
			merged[obj] = by
		}
	}
	return maps.Clone(merged), nil
}
