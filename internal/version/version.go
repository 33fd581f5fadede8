// Package version holds Courier's build version, set at link time.
package version

import "runtime"

// Version is the release version, set with -ldflags "-X .../internal/version.Version=v0.1.0".
var Version = "v0.1.0-dev"

// Commit is the source commit, set at link time.
var Commit = "unknown"

// String describes the build for --version.
func String() string {
	return "courier " + Version + " (" + Commit + ", " + runtime.Version() + ")"
}
