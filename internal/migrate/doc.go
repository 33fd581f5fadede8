// Package migrate converts what users of peer tools have in their clusters into
// Courier's equivalent: stakater Reloader's workload annotations into the rollout
// opt-in label and its extra/exclude annotations; mittwald kubernetes-replicator's
// and emberstack Reflector's annotations into ClusterPropagations (push),
// Propagations (pull) and the courier.dev/share-with-* consent annotations; and
// Kyverno generate rules that clone Secrets or ConfigMaps into Namespaces into
// ClusterPropagations.
//
// It is pure: Convert reads a list of objects (as read from a cluster or from
// manifest files) and returns a Plan. It never talks to an API server, so
// `kubectl courier migrate` can show a plan from files, apply it, or both, and the
// same input always yields byte-identical output.
//
// A Plan has three parts:
//
//   - Objects: the ClusterPropagations and Propagations to create.
//   - Changes: the labels and annotations to set on existing objects, and the peer
//     annotations the plan makes obsolete, to remove.
//   - Findings: every peer annotation or feature with no exact Courier equivalent
//     or with unsafe semantics, naming the object and the annotation, why, and what
//     the plan produced instead. Findings name objects, keys and namespaces, never
//     the data of a Secret or ConfigMap.
//
// The conversion never widens what a peer did: where Courier cannot say exactly
// what the peer said (a regular expression no glob expresses, a Kyverno
// precondition), the plan either expands it to what it matches in the input now,
// produces the narrower part it can express, or produces nothing, and a Finding
// says which.
package migrate
