// Package tools pins the development tools Courier's Makefile runs with `go tool`,
// in a module of their own so their dependencies never leak into the operator's
// go.mod. A fresh machine with Go and nothing else can run every Makefile target.
package tools
