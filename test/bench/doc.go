// Package bench measures Courier against the physical limit of a real API server.
//
// Each run starts local control planes (etcd + kube-apiserver from the project's
// source-built binaries, through test/testenv), runs the real courier binary as
// a separate process with its default flags (test/managerproc), drives the
// scenarios of docs/performance.md, and prints a JSON report and a markdown table.
// Every timed Courier figure is set against a raw-client baseline measured in the
// same run: the same writes done directly by a client with Courier's parallelism
// (16 concurrent requests) and no client-side throttling, observed the same way
// (a watch that records when each object first carries the expected bytes).
//
// Write counts come from the API server itself (apiserver_request_total on its
// /metrics). The driver's own writes are counted by a wrapping transport and
// subtracted, so what is left is what Courier did.
//
// Run it with `make bench` (full sizes, ~15 min) or
// `BENCH_SCALE=small go test ./test/bench -run TestBench -v -count=1` (~1 min, CI).
// Without BENCH_SCALE the test is skipped, so `go test ./...` stays fast.
//
// File layout: config.go (sizes and flags), cluster.go (control plane, clients,
// API-server write counts), driverwrites.go (counting the driver's own writes),
// tracker.go (watch-based arrival times), manager.go (the courier process and its
// idle detection), parallel.go, scenario_*.go (one file per scenario group),
// budgets.go, report.go (JSON and markdown).
package bench
