// Package managerproc runs the Courier manager as a separate operating-system
// process, the way a cluster runs it, for benchmarks and crash tests.
//
// The typical life cycle:
//
//	bin, err := managerproc.Build(ctx, managerproc.BuildOptions{Dir: tmp})  // go build ./cmd/courier, once
//	p, err := managerproc.Start(managerproc.Options{Binary: bin, Kubeconfig: kc, LogPath: log})
//	err = p.WaitReady(ctx)                        // GET /readyz on the probe address
//	m, err := p.Scrape(ctx)                       // parsed /metrics
//	mem, err := p.Memory()                        // VmHWM / VmRSS from /proc/<pid>/status
//	err = p.Stop(10 * time.Second)                // SIGTERM, then SIGKILL after the grace period
//
// Start always passes the loopback metrics and probe addresses it picked and
// --metrics-secure=false (so /metrics can be scraped without a token); every other
// flag keeps the binary's default unless Options.Args sets it. That keeps benchmark
// and crash-test figures representative of the production defaults.
//
// The file layout: build.go (compiling the binary), process.go (start, readiness,
// stop, kill), memory.go (/proc readings), metrics.go (a small Prometheus text-format
// parser, also usable on other components' /metrics).
package managerproc
