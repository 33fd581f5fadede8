// Package workloadrefs finds the ConfigMaps and Secrets a pod template consumes.
//
// It is pure: it reads a PodSpec and two annotation values and returns a sorted,
// de-duplicated list of references. It never talks to the API server, so the rollout
// controller can compute "what does this workload consume" both for its field index
// and inside a reconcile, with the same answer.
//
// A reference is required unless every place that mentions it marks it optional
// (env, envFrom and volume sources all carry an `optional` flag). References listed
// in the extra-refs annotation are required: the user named them on purpose, so a
// missing one is worth reporting. References listed in the exclude annotation are
// removed last, whatever their origin.
package workloadrefs
