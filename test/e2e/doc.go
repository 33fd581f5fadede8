// Package e2e is Courier's end-to-end suite. It runs against a real local cluster
// (hack/localcluster: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok, OLM) or, with E2E_CLUSTER=existing, the cluster in
// KUBECONFIG. It installs Courier through OLM from a catalog rendered from the
// repository's bundle/ and catalog/ (bundle content embedded, so no image is
// pulled), runs the operator binary locally under the ServiceAccount OLM created,
// exercises propagation and rollout, runs the bundle's custom scorecard tests,
// upgrades by subscription and uninstalls. A second container proves the OLM path
// itself with a throwaway bundle.
//
// It is skipped unless E2E=1:
//
//	E2E=1 go test ./test/e2e/ -timeout 40m -v -count=1                         # everything
//	E2E=1 go test ./test/e2e/ -v -count=1 -ginkgo.label-filter=courier         # Courier only
//
// Environment:
//   - E2E_CLUSTER=existing: use KUBECONFIG's cluster, which must run OLM (olm and
//     operators namespaces); E2E_CATALOG_SOURCE names a CatalogSource in olm that
//     serves courier-operator. The operator is the Deployment OLM created there
//     (no local process), and the upgrade step is skipped (it needs a catalog the
//     suite serves itself).
//   - E2E_WORK_DIR: keep rendered catalogs, kubeconfigs and operator logs there.
//   - E2E_CLUSTER_DIR: run the local cluster in this directory and keep its logs.
package e2e
