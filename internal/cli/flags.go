package cli

import (
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/internal/schedule"
)

// outputs are the -o formats every command takes.
var outputs = []string{"table", "wide", "json", "yaml"}

// checkOutput refuses an -o format no command prints.
func checkOutput(format string) error {
	if !slices.Contains(outputs, format) {
		return usageError("--output %q: want table, wide, json or yaml", format)
	}
	return nil
}

// rolloutFlags are the manager's rollout flags, which the CLI cannot read from the
// cluster: the same names and defaults, so the decisions it shows are the
// manager's when it is given what the manager was.
type rolloutFlags struct {
	kinds       []string
	window      time.Duration
	windows     string
	minInterval time.Duration
	maxRolling  int
}

func (f *rolloutFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.kinds, "rollout-kind", nil,
		"As the manager's flag: a declared workload kind (GROUP/VERSION/KIND[=FIELD.PATH]); repeat for more")
	cmd.Flags().DurationVar(&f.window, "rollout-coalesce-window", rollout.DefaultWindow,
		"As the manager's flag: how long a change waits for more changes")
	cmd.Flags().StringVar(&f.windows, "rollout-windows", "",
		"As the manager's flag: the weekly windows rollouts happen in, for workloads without their own")
	cmd.Flags().DurationVar(&f.minInterval, "rollout-min-interval", 0,
		"As the manager's flag: the least time between two rollouts of a workload")
	cmd.Flags().IntVar(&f.maxRolling, "rollout-max-concurrent", 0,
		"As the manager's flag: the most workloads rolling at once (0: no cap)")
}

// explainer is the rollout controller's evaluation with these flags.
func (f *rolloutFlags) explainer() (*rollout.Explainer, error) {
	var custom []rollout.CustomKind
	for _, s := range f.kinds {
		k, err := rollout.ParseCustomKind(s)
		if err != nil {
			return nil, usageError("--rollout-kind: %v", err)
		}
		custom = append(custom, k)
	}
	windows, err := schedule.ParseWindows(f.windows)
	if err != nil {
		return nil, usageError("--rollout-windows: %v", err)
	}
	return rollout.NewExplainer(rollout.Options{CustomKinds: custom, Window: f.window, Windows: windows, MinInterval: f.minInterval,
		MaxConcurrentRollouts: f.maxRolling}), nil
}
