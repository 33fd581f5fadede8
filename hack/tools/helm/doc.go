// Package helm pins the Helm CLI in a module of its own: Helm's dependency graph
// (client-go, containerd, oras, ...) would otherwise constrain the operator's and the
// other tools' versions. The Makefile builds it into ./bin/helm.
package helm
