// Package parsers holds fuzz tests of user-input parsers that live outside
// internal/ (the API's label selectors), run with their committed seed corpora as
// normal tests and with `go test -fuzz` for exploration.
package parsers
