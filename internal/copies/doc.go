// Package copies builds the copy of a source object for one target namespace: it keeps
// the source's content byte for byte, drops metadata that belongs to the source's
// tooling (server fields, kubectl, Helm, Argo CD, Flux and other replicators),
// applies the propagation's template and stamps Courier's management labels and
// annotations. It also refuses sources that must never be copied. It is pure: no
// client, no cluster.
//
// The template can:
//   - name the copy: a rename, or the source's name between a prefix and a suffix
//     (CopyName). The name must be one the API server accepts for the kind, and a
//     copy in its source's own namespace (an alias) must not take the source's
//     name: a copy never overwrites its source.
//   - add labels and annotations.
//   - transform the data keys of Secrets and ConfigMaps with ordered key rules:
//     include and exclude globs and renames, each rule working on the keys the
//     rules before it left. A ConfigMap's data and binaryData count as one set of
//     keys; a renamed key stays in the map it lives in. A rename onto an existing
//     key is an error, never an overwrite. v1alpha1's includeKeys and excludeKeys
//     are the rules include-then-exclude.
//   - set a Secret's type, after the key rules; the copy's keys must then fit the
//     type as the API server's Secret validation checks them. Service-account
//     token and Helm release types are never written.
//
// Build returns a *RefusedError when the source must never be propagated and a
// *TemplateError when this template cannot make its copy. Neither message ever
// contains object data.
package copies
