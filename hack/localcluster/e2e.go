package localcluster

import (
	"os"
	"testing"
)

// SkipUnlessE2E skips t unless the environment sets E2E=1, the switch of the tests
// that start a real local cluster or need the binaries hack/*-bins.sh builds; msg
// tells how to run the test.
func SkipUnlessE2E(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("E2E") != "1" {
		t.Skip(msg)
	}
}
