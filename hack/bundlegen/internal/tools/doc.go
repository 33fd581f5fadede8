// Package tools finds the repository root and provides the pinned command-line tools
// the OLM delivery needs (kustomize, helm, goreleaser, opm): each is built on first
// use from the Go module that pins it, exactly as the Makefile does, and cached in
// ./bin (opm in hack/olm-bins.sh's cache), so generators and tests work offline on a
// machine with nothing but Go.
package tools
