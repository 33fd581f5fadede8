// Command courier-scorecard-tests runs one of Courier's functional scorecard tests
// and prints its scorecard v1alpha3 TestStatus as JSON on stdout:
//
//	courier-scorecard-tests propagation|rollout [--bundle /bundle] [--kubeconfig FILE]
//
// In the scorecard pod the bundle is mounted at /bundle and the in-cluster
// credentials are used; locally, pass --bundle ./bundle and --kubeconfig (or set
// KUBECONFIG). It exits 0 when the test ran, whatever its result (the result is in
// the JSON), and 2 on usage errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/test/scorecard"
)

var tests = map[string]func(context.Context, scorecard.Env) v1alpha3.TestStatus{
	"propagation": scorecard.Propagation,
	"rollout":     scorecard.Rollout,
}

func main() {
	fs := flag.NewFlagSet("courier-scorecard-tests", flag.ContinueOnError)
	bundle := fs.String("bundle", "/bundle", "bundle directory (manifests/, metadata/)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then in-cluster)")
	timeout := fs.Duration("timeout", 90*time.Second, "how long to wait for Courier to act")
	settle := fs.Duration("settle", 10*time.Second, "how long to watch for an unwanted second rollout")
	if len(os.Args) < 2 {
		usage(fs)
	}
	name := os.Args[1]
	test, ok := tests[name]
	if !ok || fs.Parse(os.Args[2:]) != nil {
		usage(fs)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	status := func() v1alpha3.TestStatus {
		c, err := newClient(*kubeconfig)
		if err != nil {
			return v1alpha3.TestStatus{Results: []v1alpha3.TestResult{{
				Name: "courier-" + name, State: v1alpha3.ErrorState, Errors: []string{err.Error()}}}}
		}
		return test(ctx, scorecard.Env{Client: c, BundleDir: *bundle, Timeout: *timeout, Settle: *settle})
	}()
	out, err := json.MarshalIndent(status, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func usage(fs *flag.FlagSet) {
	fmt.Fprintln(os.Stderr, "usage: courier-scorecard-tests propagation|rollout [flags]")
	fs.PrintDefaults()
	os.Exit(2)
}

func newClient(kubeconfig string) (client.WithWatch, error) {
	scheme := courierscheme.New()
	cfg, err := config.GetConfig()
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("loading credentials: %w", err)
	}
	return client.NewWithWatch(cfg, client.Options{Scheme: scheme})
}
