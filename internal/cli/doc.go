// Package cli is kubectl-courier, the kubectl plugin that shows what Courier does
// and why: `kubectl courier status` sums up every propagation and every opted-in
// workload. Its answers come from the same code the controllers run (the rollout
// controller's own evaluation of a workload, the status the propagation controller
// wrote), never from a second implementation of their rules.
//
// It follows kubectl's plugin conventions: the standard kubeconfig, context and
// namespace flags (k8s.io/cli-runtime), -o table|wide|json|yaml, and exit codes a CI
// job can test (see ExitCode). It uses the caller's own RBAC: what the caller may
// not read is named, with the permission that is missing, and left out.
package cli
