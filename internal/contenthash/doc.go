// Package contenthash computes deterministic digests of ConfigMap and Secret content.
//
// Only content counts: a ConfigMap's data and binaryData, a Secret's type and data
// (with stringData folded in, as the API server does). Metadata — labels,
// annotations, resourceVersion, managedFields — never changes a digest, so a
// metadata-only edit of a consumed object can never roll a workload.
//
// Every field is written length-prefixed and map keys are sorted, so two different
// contents cannot produce the same byte stream (no ambiguity between "a"+"bc" and
// "ab"+"c", or between data and binaryData), and the same content always produces
// the same digest whatever the map iteration order. Digests are hex SHA-256.
package contenthash
