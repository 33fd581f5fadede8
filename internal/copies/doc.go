// Package copies builds the copy of a source object for one target namespace: it keeps
// the source's content byte for byte, drops metadata that belongs to the source's
// tooling (server fields, kubectl, Helm, Argo CD, Flux and other replicators),
// applies the propagation's template (rename, extra labels and annotations, data key
// filters) and stamps Courier's management labels and annotations. It also refuses
// sources that must never be copied. It is pure: no client, no cluster.
package copies
