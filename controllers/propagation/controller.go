package propagation

import (
	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// reconcilerFor declares the controller of one variant: guard cleanup with the
// finalizer; plan the copies (resolve the sources, decide the targets); keep every
// kind of copy in line, each kind on its own so one failing does not hold back the
// others; then sum the copies up in the status.
func reconcilerFor[T reconciler.Object](e *engine, v variant[T]) *reconciler.Builder[T] {
	c := newCopySets(e, v)
	return reconciler.For(v.controller, v.New).
		Steps(
			reconciler.Finalizer("finalizer", v1alpha1.Finalizer, c.release),
			reconciler.Sync("plan", c.makePlan),
			reconciler.All(reconciler.Sync("takeover", c.takeover), c.secrets, c.configMaps, c.others),
		).
		Status(c.status).
		Metrics(e.opts.Metrics).
		Concurrency(e.opts.MaxConcurrentReconciles)
}
