package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	"sigs.k8s.io/yaml"
)

// TestScorecardConfig checks the bundle's scorecard configuration: the standard
// basic and olm suites and Courier's own tests, each addressable by label.
func TestScorecardConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "bundle", "tests", "scorecard", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg v1alpha3.Configuration
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.APIVersion != "scorecard.operatorframework.io/v1alpha3" || cfg.Kind != "Configuration" || len(cfg.Stages) == 0 {
		t.Fatalf("not a scorecard v1alpha3 Configuration: %s %s, %d stages", cfg.APIVersion, cfg.Kind, len(cfg.Stages))
	}
	var tests []string
	for _, st := range cfg.Stages {
		for _, tc := range st.Tests {
			if tc.Image == "" || len(tc.Entrypoint) == 0 {
				t.Errorf("test %v has no image or entrypoint", tc.Labels)
			}
			tests = append(tests, tc.Labels["suite"]+"/"+tc.Labels["test"])
		}
	}
	for _, want := range []string{
		"basic/basic-check-spec-test",
		"olm/olm-bundle-validation-test", "olm/olm-crds-have-validation-test", "olm/olm-crds-have-resources-test",
		"olm/olm-spec-descriptors-test", "olm/olm-status-descriptors-test",
		"courier/courier-propagation-test", "courier/courier-rollout-test",
	} {
		if !slices.Contains(tests, want) {
			t.Errorf("scorecard config lacks %s (has %v)", want, tests)
		}
	}
}
