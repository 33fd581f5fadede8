// Package chart renders the parts of the Helm chart charts/courier that must stay
// identical to config/: the CRDs (copied verbatim into crds/) and the RBAC
// (templates/rbac.yaml: the rules, aggregation and bindings of config/rbac, with
// names, namespaces and labels templated). Everything else in the chart is written
// by hand.
package chart
