// Package storagemigration moves Courier's stored objects to their CRDs' storage
// version after an upgrade, then records that in the CRDs' status.storedVersions,
// so a later release can stop serving the old version (docs/api-versions.md).
//
// It reads every object through the storage version (the API server converts what
// is stored in an older one, through the conversion webhook) and writes each back
// unchanged. The API server stores the write in the storage version; an object
// already stored in it encodes to the same bytes, so its write is a no-op that
// changes nothing, not even its resourceVersion. This is what Kubernetes'
// kube-storage-version-migrator does; the manager does it itself because the
// StorageVersionMigration API is off in most clusters.
package storagemigration
