package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyDependencies must not be linked into the manager: each was measured to cost
// resident memory for nothing Courier does (docs/performance.md, "Tuning"). The
// metrics filter of controller-runtime (pkg/metrics/filters) pulls in all of them;
// internal/metricsauth replaces it.
var heavyDependencies = []string{
	"k8s.io/apiserver/",
	"github.com/google/cel-go/",
	"google.golang.org/grpc",
	"go.opentelemetry.io/",
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters",
}

func TestNoHeavyDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, heavy := range heavyDependencies {
			if strings.HasPrefix(pkg, heavy) {
				t.Errorf("cmd/courier links %s (%s...): see docs/performance.md before adding it", pkg, heavy)
			}
		}
	}
}
