package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	"sigs.k8s.io/yaml"
)

// CustomScorecardTests returns the arguments (entrypoint minus the binary) of every
// test in the bundle's scorecard configuration whose entrypoint is binary — the
// project's own functional tests, which can run as a local process.
func CustomScorecardTests(bundleDir, binary string) ([][]string, error) {
	data, err := os.ReadFile(filepath.Join(bundleDir, "tests", "scorecard", "config.yaml"))
	if err != nil {
		return nil, err
	}
	var cfg v1alpha3.Configuration
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, err
	}
	var out [][]string
	for _, st := range cfg.Stages {
		for _, t := range st.Tests {
			if len(t.Entrypoint) > 1 && t.Entrypoint[0] == binary {
				out = append(out, t.Entrypoint[1:])
			}
		}
	}
	return out, nil
}

// RunScorecardTest runs one custom scorecard test binary locally (the flags its
// command documents for local runs: --bundle, --kubeconfig) and decodes the
// v1alpha3 TestStatus it prints.
func RunScorecardTest(ctx context.Context, bin string, args []string, bundleDir, kubeconfig string) (*v1alpha3.TestStatus, error) {
	cmd := exec.CommandContext(ctx, bin, append(append([]string{}, args...), "--bundle="+bundleDir, "--kubeconfig="+kubeconfig)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w: %s", bin, args, err, stderr.String())
	}
	var status v1alpha3.TestStatus
	if err := json.Unmarshal(out, &status); err != nil {
		return nil, fmt.Errorf("%s %v: decoding TestStatus: %w: %s", bin, args, err, out)
	}
	if len(status.Results) == 0 {
		return nil, fmt.Errorf("%s %v: no results", bin, args)
	}
	return &status, nil
}
