package main

import (
	"testing"

	"github.com/courier-operator/courier/hack/bundlegen/internal/tools"
)

// TestGoreleaserCheck runs `goreleaser check` (pinned in hack/tools/release) on
// .goreleaser.yaml: a deprecated or invalid configuration fails.
func TestGoreleaserCheck(t *testing.T) {
	root := repoRoot(t)
	gr, err := tools.Path(root, "goreleaser")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := tools.Run(root, gr, "check"); err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}
