// Package propagation implements the ClusterPropagation (push) and Propagation (pull)
// controllers with the reconcile DSL in pkg/reconciler.
//
// Both kinds are one controller declaration (controller.go) over a variant[T]
// (variant.go) that says what they differ in. A reconcile plans (plan.go): resolve
// the sources (noticed through metadata streams, content read directly from the API
// server), decide the target namespaces (selectors and globs for
// ClusterPropagation; the own namespace plus the source owner's consent for
// Propagation) and build each copy with internal/copies. Three ChildSets declared
// once (copysets.go) keep the copies in line: Secrets and ConfigMaps typed and
// cached by the manager through a label-selected cache that keeps their metadata
// and a digest of their content (CacheByObject), every other
// kind unstructured and listed from the API server on demand. The Status hook
// (status.go) sums their reports up.
//
// Memory: Courier never caches Secrets or ConfigMaps it does not manage. The
// manager's cache for Secrets and ConfigMaps only holds Courier's copies; sources are
// noticed through the events of the manager's metadata streams (pkg/metastream, see
// SetupWithManager), which keep nothing of an object but its key, and are read live
// when a propagation syncs.
package propagation
