// Package reconciler is a small, typed reconcile DSL for controller-runtime: a
// controller is a declaration of a primary type, an ordered list of steps and what
// it watches.
//
//	configMaps := reconciler.ChildSet[*Widget, *corev1.ConfigMap]{Name: "configmaps", ...}.Step()
//	reconciler.For("widget", func() *Widget { return &Widget{} }).
//		Steps(
//			reconciler.Finalizer("finalizer", "example.com/cleanup", configMaps.Release),
//			configMaps,
//		).
//		Status(func(ctx context.Context, s *reconciler.State[*Widget]) {
//			report, _ := configMaps.Report(s)
//			s.Object.Status.Synced = report.Synced()
//		}).
//		OwnsByLabel(&corev1.ConfigMap{}, "example.com/widget").
//		Metrics(metrics).
//		Complete(mgr)
//
// It is a library: nothing in it is specific to one program, and its metrics are
// named under the prefix given to NewMetrics.
//
// # One reconcile
//
// The reconciler gets the primary (NotFound ends the reconcile), deep-copies it into
// a State and runs the steps in order, stopping at the first error (the steps of an
// All all run). Then the Status hook computes the primary's own status fields, and,
// in one place, the reconciler computes the kstatus conditions, sets
// status.observedGeneration and writes the status once, as a merge patch of status
// only, and only when it changed. Events are emitted when the Ready condition
// changes status or reason, never in a steady state.
//
// # Outcomes
//
// A step returns nil (done) or an error, classified in one place (Classify):
//
//   - Terminal(reason, ...): Stalled=True, Ready=False with the reason; no retry
//     (it wraps reconcile.TerminalError); observedGeneration is set.
//   - Waiting(after, reason, ...): Reconciling=True, Ready=False with the reason;
//     requeued after the delay without logging an error; observedGeneration is set.
//   - any other error: transient. Reconciling=True, Ready=False (TransientError);
//     controller-runtime retries with backoff; observedGeneration is kept.
//   - nil: Ready=True (Succeeded) unless a step recorded a NotReady fact, in which
//     case Ready=False with the first fact's reason; observedGeneration is set.
//
// A primary that does not implement Object (a Deployment, say) gets no conditions
// and no status write: its outcome is only mapped to a result, and a NotReady fact
// becomes a log line and an increment of <prefix>_reconcile_not_ready_total.
//
// # Children
//
// A ChildSet, declared once, keeps a set of children of one kind (NewList) or of
// several unstructured kinds (Kinds) in line with the primary: ownership labels for
// listing, server-side apply or (Exact) one POST or PUT per child, a conflict
// policy for objects it does not own, a prune policy for children no longer
// desired. Steady state makes no write. Its Step handle is a step, a finalizer
// cleanup (Release) and the source of the step's report (Report). Declarations are
// validated when the controller is built.
//
// Steps share what they compute through a Key, a typed per-reconcile slot.
//
// # Watching what the manager's cache does not hold
//
// A cache has one label or field selector per kind. To be told about every object
// of a kind without caching it, watch it through an EventStream (pkg/metastream);
// the map function receives *metav1.PartialObjectMetadata:
//
//	hub, _ := metastream.NewForManager(mgr) // one per manager, passed to every controller
//	b := reconciler.For(...).WatchesStream(&corev1.Secret{}, hub, mapFn)
//	err := b.Complete(mgr)
//
// Kinds only known at run time are watched through the controller Complete built:
//
//	b.Controller().Watch(hub.Source(gvk, handler.EnqueueRequestsFromMapFunc(mapFn)))
//
// # Testing
//
// Package reconcilertest runs a controller against controller-runtime's fake client
// and asserts the exact API writes, status, conditions and events of one reconcile.
// Builder.BuildWith builds the reconciler from explicit Deps, without a manager.
package reconciler
