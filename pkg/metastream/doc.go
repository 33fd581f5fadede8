// Package metastream delivers the events of every object of a kind (metadata only)
// to controllers without caching the objects.
//
// A controller that must notice changes to arbitrary Secrets or ConfigMaps (the
// sources of a propagation, the inputs of a workload) would normally watch them
// through an informer, whose store holds every object of the kind in the cluster:
// with metadata-only informers about 1.4 KiB of heap per object, 40 MiB for 30,000
// Secrets and ConfigMaps that Courier never copies. A Hub streams them instead: one
// paged LIST and one WATCH per kind, shared by every controller of the manager;
// each event is mapped to requests and dropped. What it keeps per object is its
// namespace and name, so that objects deleted while the watch was down (and the
// stream had to list again) are still reported.
//
// Semantics, and how they differ from a source.Kind on an informer:
//
//   - The stream's first list delivers a Create event per object to the sources
//     started before it completed (WaitForSync waits for it), as an informer does.
//     A source started later, on a stream already running, gets the events of
//     changes from then on and no replay: read what existed before live, after
//     starting the source, and nothing is missed.
//   - An Update event carries the new object as both ObjectOld and ObjectNew (no
//     previous state is kept): map functions work, predicates that compare the two
//     do not apply.
//   - When the watch cannot resume (410 Gone), the stream lists again and delivers
//     a Generic event for every listed object (it may have changed) and a Delete
//     event with DeleteStateUnknown, carrying only kind, namespace and name, for
//     every object that is gone.
//
// A Hub created with namespaces (a namespaced install) streams namespaced kinds in
// those namespaces only, one LIST and one WATCH per kind and namespace, as
// controller-runtime's cache does with DefaultNamespaces.
//
// Use it with the reconcile DSL: create one Hub per manager and pass it to every
// controller that streams a kind.
//
//	hub, err := metastream.NewForManager(mgr)
//	reconciler.For[*Widget]("widget", newWidget).
//		WatchesStream(&corev1.Secret{}, hub, mapFn)
package metastream
