// Package e2e is Courier's end-to-end suite. It runs against a real local cluster
// (hack/localcluster: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok, OLM) or, with E2E_CLUSTER=existing, the cluster in
// KUBECONFIG. It installs Courier through OLM from a catalog rendered from the
// repository, runs the operator binary locally under the ServiceAccount OLM
// created, exercises propagation and rollout, runs the scorecard tests, upgrades
// by subscription and uninstalls.
//
// It is skipped unless E2E=1:
//
//	E2E=1 go test ./test/e2e/ -timeout 30m -v -ginkgo.v
package e2e
