// Package reliability proves Courier's invariants under faults, hostile input and
// an adversarial security model. It holds only tests:
//
//   - faults: the manager (a real process built from ./cmd/courier, running as its
//     own ServiceAccount with exactly the RBAC in config/rbac) is SIGKILLed at
//     random points of a fan-out, a source update and a deletion; the API server is
//     restarted under it; a concurrent writer fights it; two replicas hand over
//     leadership; it is restarted many times with unchanged inputs; another writer
//     keeps rewriting a copy; the link to the API server fails (faults_test.go:
//     latency, resets, a blackhole, a half-open link, 429/5xx bursts, cut lists,
//     expired watches, etcd compaction) through an embedded toxiproxy and an HTTP
//     fault proxy (faultproxy_test.go);
//   - bad input: a table of invalid and hostile specs and objects, each rejected
//     with a field-specific message or condition and no side effect;
//   - security: the consent matrix, least-privilege RBAC, and a scan of everything
//     Courier emitted (debug logs, events, metrics, status) for Secret data;
//   - govulncheck, run when its database is reachable and skipped loudly otherwise.
//
// `go test ./test/reliability/...` (what `make test` runs) keeps the counts small;
// RELIABILITY_SOAK=1 raises them (see settings_test.go for every knob). Figures
// (kill points survived, restarts, bad inputs tried) are printed at the end of the
// suite and written to bin/reliability-report.txt.
package reliability
