// Package lint pins golangci-lint in a module of its own: its large dependency graph
// would otherwise constrain the versions of the other tools.
package lint
