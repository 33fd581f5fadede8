package rollout

import (
	"time"

	"github.com/courier-operator/courier/internal/nsscope"
	"github.com/courier-operator/courier/internal/schedule"
	"github.com/courier-operator/courier/pkg/metastream"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// Default settings.
const (
	// DefaultWindow is how long the controller waits after the last observed input
	// change before rolling, so a burst of changes rolls once.
	DefaultWindow = 5 * time.Second
	// maxDelayFactor bounds the total wait of a burst to this many windows, so inputs
	// that never stop changing still roll eventually.
	maxDelayFactor = 10
)

// Options configures the rollout controller.
type Options struct {
	// Window is the coalescing window: a rollout happens once no input changed for
	// this long. Zero means DefaultWindow.
	Window time.Duration
	// MaxDelay bounds how long a burst of changes can postpone its rollout (measured
	// from the first change). Zero means ten windows.
	MaxDelay time.Duration
	// Windows are the weekly windows rollouts may happen in, for workloads without
	// AnnotationWindows (none: any time).
	Windows schedule.Windows
	// MinInterval is the least time between two rollouts of one workload, for
	// workloads without AnnotationMinInterval (zero: none).
	MinInterval time.Duration
	// MaxConcurrentRollouts caps the workloads (Deployments, StatefulSets,
	// DaemonSets) rolling at once, cluster-wide; the others wait their turn in the
	// order their changes were first seen. Zero means no cap.
	MaxConcurrentRollouts int
	// ProgressDeadline is how long a rollout counts towards the cap at most when
	// the workload does not report it done. Zero means ten minutes.
	ProgressDeadline time.Duration
	// MaxConcurrentReconciles bounds concurrent reconciles per workload kind. Zero
	// means 2.
	MaxConcurrentReconciles int
	// CustomKinds are more workload kinds with a pod template (custom resources),
	// rolled once the API server serves them; Argo Rollouts always are.
	CustomKinds []CustomKind
	// KindPollInterval is how often a custom kind the API server does not serve yet
	// is looked for. Zero means 30 seconds.
	KindPollInterval time.Duration
	// Scope is the namespaces a namespaced install is limited to (zero: every
	// namespace). The manager's cache is limited to them by its creator; the
	// caches of custom kinds are limited here.
	Scope nsscope.Scope
	// Streams is the manager's metadata stream hub (metastream.NewForManager), through
	// which inputs are watched without caching them. Required.
	Streams *metastream.Hub
	// Metrics records the reconcile DSL's metrics (nil: none).
	Metrics *reconciler.Metrics
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = maxDelayFactor * o.Window
	}
	if o.MaxDelay < o.Window {
		o.MaxDelay = o.Window
	}
	if o.ProgressDeadline <= 0 {
		o.ProgressDeadline = 10 * time.Minute
	}
	if o.KindPollInterval <= 0 {
		o.KindPollInterval = 30 * time.Second
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 2
	}
	return o
}
