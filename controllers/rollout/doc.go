// Package rollout rolls opted-in workloads exactly once when the content of a
// ConfigMap or Secret they consume changes.
//
// A Deployment, StatefulSet, DaemonSet or CronJob opts in with the label
// courier.dev/rollout-on-change=true; the manager caches only those workloads. For
// each one, the controller collects the ConfigMaps and Secrets its pod template
// references (internal/workloadrefs), reads their content directly from the API
// server (never caching it), hashes it (internal/contenthash) and, when the hash
// differs from the one last applied, sets the pod-template annotation
// courier.dev/config-hash with server-side apply under its own field manager.
//
// All state lives on the workload itself, in metadata annotations (which do not roll
// pods): the last applied hash with a short digest per input, and a pending change
// with the time it was first and last observed. That is what makes the controller
// restart-safe: opting in records a baseline without touching the template, a
// restart or leader change finds the recorded hash and rolls nothing, a change made
// while the operator was down is seen as a difference on start and rolls once, and
// several changes inside the coalescing window roll once.
//
// ConfigMaps and Secrets are watched through the manager's metadata streams
// (pkg/metastream: events only, nothing cached; the manager's own cache for those
// types is label-selected for Courier's copies), and a field index on the cached workloads
// maps an event on an object to the workloads that consume it. Because a metadata watch fires for every change, including
// label-only ones, decisions compare content hashes, never resourceVersions.
//
// File layout: names.go (annotations), options.go, state.go (annotation state),
// decide.go (the pure decision), inputs.go (reading and hashing inputs), apply.go
// (the server-side apply), kinds.go (the three workload kinds), index.go (field
// index and event mapping), metrics.go, sync.go (one reconcile), setup.go (wiring),
// controller.go (the DSL declaration).
package rollout
