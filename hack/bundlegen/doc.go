// Command bundlegen renders Courier's OLM bundle and the generated parts of its Helm
// chart from config/, offline, with no Operator SDK CLI:
//
//	go run ./hack/bundlegen bundle [-version 0.1.0] [-replaces courier-operator.v0.0.9] [-skip-range '<0.1.0']
//	go run ./hack/bundlegen chart
//	go run ./hack/bundlegen catalog-add -name courier-operator.v0.2.0 [-channels candidate,stable]
//	go run ./hack/bundlegen catalog-head [-channel stable]
//
// `bundle` replaces bundle/ (and bundle.Dockerfile) with the rendering of
// `kustomize build config/manifests`, the CSV markers in api/v1alpha1 and the
// samples in config/samples. `chart` rewrites charts/courier/crds and the chart's
// generated RBAC template from config/crd and config/rbac. Both are deterministic,
// so tests regenerate them and compare with what is committed.
//
// `catalog-add` and `catalog-head` edit and read the upgrade graph of
// catalog/courier-operator/channels.yaml; hack/catalog-add-version.sh uses them.
package main
