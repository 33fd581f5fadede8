// Package reconciler is Courier's small, typed reconcile DSL.
//
// A controller is a declaration: a primary type, an ordered list of steps and the
// objects it watches.
//
//	reconciler.For("widget", func() *Widget { return &Widget{} }).
//		Steps(
//			reconciler.Finalizer[*Widget]("finalizer", "example.com/cleanup", cleanup),
//			reconciler.ChildSet[*Widget, *corev1.ConfigMap]{Name: "configmaps", ...}.Step(),
//		).
//		OwnsByLabel(&corev1.ConfigMap{}, "example.com/widget").
//		Complete(mgr)
//
// # One reconcile
//
// The reconciler gets the primary (NotFound ends the reconcile), deep-copies it into
// a State and runs the steps in order, stopping at the first error. Then, in one
// place, it computes the kstatus conditions, sets status.observedGeneration and
// writes the status once, through the status subresource, as a merge patch of status
// only — and only when it changed semantically. Events are emitted when the Ready
// condition changes status or reason, never in a steady state.
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
//     case Ready=False with the first fact's reason; Reconciling and Stalled are
//     removed; observedGeneration is set.
//
// Every condition carries the primary's generation as observedGeneration, and keeps
// its LastTransitionTime while its status does not change.
//
// # Primaries without Courier status
//
// The primary type only has to be a client.Object. Conditions, observedGeneration,
// the status write and the transition events exist only for primaries that also
// implement Object (checked at run time with a type assertion). A built-in primary
// such as a Deployment, a StatefulSet or a ConfigMap is never status-written: the
// outcome is only mapped to a result (Waiting → RequeueAfter, Terminal →
// reconcile.TerminalError, transient → error), step metrics and logs are emitted as
// usual, and a NotReady fact becomes a log line and an increment of
// courier_reconcile_not_ready_total. The Status hook still runs, but whatever it
// sets on such a primary is not written.
//
// # Children
//
// ChildSet keeps a set of children of one kind in line with the primary, using
// server-side apply under one field owner, ownership labels for listing, a conflict
// policy for objects it does not own and a prune policy for children no longer
// desired. Steady state makes no write: the default Matches is a subset compare, so
// fields defaulted by the server never trigger an update.
//
// # Watching what the manager's cache does not hold
//
// A cache has one label or field selector per kind, and Courier's manager cache
// selects ConfigMaps and Secrets by Courier's copy label. To be told about every
// ConfigMap or Secret without caching them, watch through a metadata stream
// (pkg/metastream) with FromStream; the map function receives
// *metav1.PartialObjectMetadata:
//
//	hub, _ := metastream.ForManager(mgr)
//	b := reconciler.For(...).
//		Watches(&corev1.Secret{}, mapFn, reconciler.FromStream(hub))
//	err := b.Complete(mgr)
//
// Kinds only known at run time are watched through the controller Complete built:
//
//	b.Controller().Watch(hub.Source(gvk, handler.EnqueueRequestsFromMapFunc(mapFn)))
//
// To watch through another cache instead (when the controller also reads the objects
// from it), use FromCache, with MetadataOnly for a metadata cache, and MetadataWatch
// for kinds known at run time.
//
// # Testing
//
// Package reconcilertest runs a controller against controller-runtime's fake client
// and asserts the exact API writes, status, conditions and events of one reconcile.
// Builder.BuildWith builds the reconciler from explicit Deps, without a manager.
//
// # Metrics
//
// courier_reconcile_step_duration_seconds{controller,step},
// courier_reconcile_outcomes_total{controller,step,outcome},
// courier_child_operations_total{controller,step,verb,result} and
// courier_reconcile_not_ready_total{controller,reason}, in the
// controller-runtime metrics registry.
package reconciler
