package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	sdk := operatorSDKVersion(t)
	var tests []string
	for _, st := range cfg.Stages {
		for _, tc := range st.Tests {
			if tc.Image == "" || len(tc.Entrypoint) == 0 {
				t.Errorf("test %v has no image or entrypoint", tc.Labels)
			}
			// The standard suites run the image of the Operator SDK release the
			// Makefile pins (OPERATOR_SDK_VERSION), never an older one.
			if repo, tag, _ := strings.Cut(tc.Image, ":"); repo == "quay.io/operator-framework/scorecard-test" && tag != sdk {
				t.Errorf("test %v runs %s, want the tag %s of OPERATOR_SDK_VERSION", tc.Labels, tc.Image, sdk)
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

// operatorSDKVersion reads OPERATOR_SDK_VERSION from the Makefile.
func operatorSDKVersion(t *testing.T) string {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(mk), "\n") {
		if v, ok := strings.CutPrefix(line, "OPERATOR_SDK_VERSION ?= "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("the Makefile sets no OPERATOR_SDK_VERSION")
	return ""
}
