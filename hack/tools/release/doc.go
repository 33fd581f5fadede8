// Package release pins GoReleaser in a module of its own: its very large dependency
// graph (cloud SDKs, signing, publishers) must never reach the operator's go.mod.
// The Makefile builds it into ./bin/goreleaser.
package release
