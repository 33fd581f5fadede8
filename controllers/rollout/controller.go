package rollout

import (
	"errors"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ErrStatuslessPrimary is returned by SetupWithManager until pkg/reconciler can
// reconcile primaries without Courier conditions (built-in workloads have none), and
// can watch through a cache other than the manager's. See docs/rollout.md,
// "Implementation status".
var ErrStatuslessPrimary = errors.New("rollout: pkg/reconciler cannot yet declare a controller for a built-in (statusless) primary watched through its own cache")

// completeController declares the controller of one workload kind in the reconcile
// DSL.
func completeController[T client.Object](_ ctrl.Manager, _ *syncer, _ cache.Cache, k workloadKind[T]) error {
	return fmt.Errorf("%s: %w", k.name, ErrStatuslessPrimary)
}
