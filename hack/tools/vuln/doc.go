// Package vuln pins golang.org/x/vuln's govulncheck in a module of its own, so its
// dependencies never enter Courier's go.mod. Run it from the repository root:
//
//	go -C hack/tools/vuln tool govulncheck -C "$PWD" ./...
//
// (`make vulncheck`). It needs the Go vulnerability database: https://vuln.go.dev by
// default, or a mirror / local copy named by GOVULNDB (`-db file:///path/to/db`).
// test/reliability runs it only when the database is reachable and prints a SKIP
// line otherwise: an unreachable database is not a pass.
package vuln
