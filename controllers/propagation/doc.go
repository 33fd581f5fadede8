// Package propagation implements the ClusterPropagation (push) and Propagation (pull)
// controllers with the reconcile DSL in pkg/reconciler.
//
// Both kinds share one engine: resolve the sources (metadata from a metadata-only
// watch, content read directly from the API server), decide the target namespaces
// (selectors and globs for ClusterPropagation; the own namespace plus the source
// owner's consent for Propagation), build each copy with internal/copy, and keep the
// copies in line with one reconciler.ChildSet per kind. Copies of Secrets and
// ConfigMaps are cached by the manager through a label-selected cache
// (CacheByObject); every other kind is listed from the API server on demand.
//
// Memory: Courier never caches Secrets or ConfigMaps it does not manage. The
// manager's cache for Secrets and ConfigMaps only holds Courier's copies; sources are
// noticed through the events of the manager's metadata streams (pkg/metastream, see
// SetupWithManager), which keep nothing of an object but its key, and are read live
// when a propagation syncs.
package propagation
