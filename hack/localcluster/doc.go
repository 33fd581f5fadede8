// Package localcluster runs a real Kubernetes control plane on the loopback
// interface for end-to-end tests and demos: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok with one fake node (pods on it
// become Running and Ready at once), each as a child process with its own
// kubeconfig and certificates generated with crypto/x509. Optionally it installs
// OLM, running its olm and catalog operators as local processes, and serves
// file-based catalogs with opm.
//
// Binaries are built from source through the Go module proxy by
// hack/control-plane-bins.sh and hack/olm-bins.sh and cached, so nothing but Go is
// needed; Kubernetes binaries are version-stamped (kubectl version reports v1.37.2).
//
//	c, err := localcluster.Start(ctx, localcluster.Options{WithOLM: true})
//	defer c.Stop()
//	cfg := c.RESTConfig()
//
// Every child process is in its own process group and is killed if the parent
// dies; Stop stops all of them and removes the temporary directory.
package localcluster
