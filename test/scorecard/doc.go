// Package scorecard holds Courier's own functional scorecard tests: each runs
// against a cluster where Courier is installed and returns a scorecard v1alpha3
// TestStatus (github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3).
//
//   - Propagation creates a source, a target namespace and a ClusterPropagation from
//     the bundle's alm-examples, and expects an identical, managed copy.
//   - Rollout opts a Deployment in, changes the ConfigMap it consumes, and expects
//     the pod-template annotation courier.dev/config-hash to change exactly once.
//
// The command cmd/courier-scorecard-tests runs them: inside the scorecard pod (the
// bundle mounted at /bundle, in-cluster credentials) or locally with --bundle and
// --kubeconfig. The package's own test runs that binary against an envtest control
// plane with the manager (./cmd/courier) running.
package scorecard
