// Package testenv starts envtest control planes for Courier's test suites: the
// API server and etcd binaries come from KUBEBUILDER_ASSETS when it is set, and
// otherwise from hack/control-plane-bins.sh (which downloads or builds them once
// and caches them), so `go test ./...` works on a fresh machine too.
package testenv
