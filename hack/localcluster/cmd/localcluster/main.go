// Command localcluster runs the local Kubernetes cluster of package localcluster
// in the foreground:
//
//	go run ./hack/localcluster/cmd/localcluster up [--olm] [--dir DIR]
//
// It prints `export KUBECONFIG=...` once the fake node is Ready and tears
// everything down on Ctrl-C (SIGINT) or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/courier-operator/courier/hack/localcluster"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "up" {
		fmt.Fprintln(os.Stderr, "usage: localcluster up [--olm] [--dir DIR] [--bin-dir DIR]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	withOLM := fs.Bool("olm", false, "also install OLM (CRDs, olm and catalog operators)")
	dir := fs.String("dir", "", "working directory kept after exit (default: a temporary one, removed)")
	binDir := fs.String("bin-dir", "", "directory searched first for the binaries")
	_ = fs.Parse(os.Args[2:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := localcluster.Start(ctx, localcluster.Options{WithOLM: *withOLM, Dir: *dir, BinDir: *binDir, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "localcluster: up in %s; logs in %s/logs; Ctrl-C to stop\n", time.Since(start).Round(time.Millisecond), c.Dir())
	fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "localcluster: stopping")
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster: stop:", err)
		os.Exit(1)
	}
}
