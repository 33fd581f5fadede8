package bench

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config holds the sizes of every scenario. Presets come from BENCH_SCALE; flags
// (passed after -args) override single values.
type Config struct {
	// Scale is "full", "small" or "large".
	Scale string
	// Parallelism is how many writes the baseline client has in flight: Courier's
	// --child-parallelism default.
	Parallelism int
	// SecretBytes is the size of each Secret's (and ConfigMap's) data.
	SecretBytes int

	// FanoutNamespaces is the number of labelled target namespaces (scenarios 1, 2, 7).
	FanoutNamespaces int
	// NewNamespaces is how many matching namespaces are added at once (scenario 3).
	NewNamespaces int
	// SteadyState is how long writes are watched after convergence (scenario 5).
	SteadyState time.Duration

	// MemorySecrets and MemoryConfigMaps are the unrelated objects present before
	// Courier starts, spread over MemoryNamespaces (scenario 4).
	MemorySecrets, MemoryConfigMaps, MemoryNamespaces int
	// MemoryPropagations is the number of ClusterPropagations Courier manages in
	// scenario 4 (each copies one Secret to MemoryNamespaces/MemoryPropagations
	// namespaces); MemoryDeployments is the number of opted-in Deployments.
	MemoryPropagations, MemoryDeployments int
	// MemorySettle is how long Courier runs after convergence before the steady
	// RSS is read.
	MemorySettle time.Duration

	// ChurnNamespaces × ChurnSources copies are made and deleted again in scenario
	// 8, by ChurnPropagations ClusterPropagations (ChurnSources/ChurnPropagations
	// sources each, every one to all ChurnNamespaces).
	ChurnNamespaces, ChurnSources, ChurnPropagations int

	// ScaleWaves are scenario 9's waves of copies: each is made, measured, Courier
	// restarted on it and measured again, and deleted.
	ScaleWaves []wave

	// RolloutDeployments is the number of opted-in Deployments sharing one
	// ConfigMap (scenario 6).
	RolloutDeployments int

	// CheckTimes enables the time budgets (ratios to the baseline). Small mode
	// checks counts and memory only: its times are too short to be stable.
	CheckTimes bool
	// OutFile, when set, receives the JSON report.
	OutFile string
	// PlotDir, when set, receives the SVG plots of the report (plots.go).
	PlotDir string
	// WorkDir, when set, keeps kubeconfigs and courier logs there instead of in a
	// temporary directory removed at the end.
	WorkDir string
	// ProfileDir, when set, receives heap profiles of the manager at each memory
	// snapshot of scenario 8 (go tool pprof -diff_base before.pb.gz after.pb.gz).
	ProfileDir string
	// CourierBinary, when set, is run instead of a fresh build of ./cmd/courier
	// (for comparing a candidate change built elsewhere).
	CourierBinary string
	// Groups are the scenario groups to run (propagation, rollout, memory, churn, scale).
	Groups []string
	// Rounds is how often the timed fan-out and update run, for Courier and for
	// the baseline; the median round is reported, so one noisy run on a shared
	// machine does not decide a ratio.
	Rounds int
}

func presets(scale string) (Config, error) {
	full := Config{
		Scale: "full", Parallelism: 16, SecretBytes: 8 << 10,
		FanoutNamespaces: 1000, NewNamespaces: 100, SteadyState: 2 * time.Minute,
		MemorySecrets: 20000, MemoryConfigMaps: 10000, MemoryNamespaces: 200,
		MemoryPropagations: 10, MemoryDeployments: 200, MemorySettle: 30 * time.Second,
		ChurnNamespaces: 250, ChurnSources: 20, ChurnPropagations: 10,
		RolloutDeployments: 500, CheckTimes: true, Rounds: 3,
		ScaleWaves: []wave{
			{name: "scale-8k", namespaces: 1000, sources: 20, props: 20, bytes: 8 << 10},
			{name: "scale-64k", namespaces: 250, sources: 20, props: 20, bytes: 64 << 10},
		},
	}
	switch scale {
	case "full":
		return full, nil
	case "large":
		// Not in CI: the fan-out to 10,000 namespaces, and 20,000 copies across them.
		large := full
		large.Scale = "large"
		large.FanoutNamespaces, large.NewNamespaces = 10000, 1000
		large.ScaleWaves = []wave{{name: "scale-8k", namespaces: 10000, sources: 2, props: 2, bytes: 8 << 10}}
		return large, nil
	case "small":
		small := full
		small.Scale = "small"
		small.FanoutNamespaces, small.NewNamespaces, small.SteadyState = 100, 10, 15*time.Second
		small.MemorySecrets, small.MemoryConfigMaps, small.MemoryNamespaces = 2000, 1000, 20
		small.MemoryDeployments, small.MemorySettle = 20, 5*time.Second
		small.ChurnNamespaces, small.ChurnSources, small.ChurnPropagations = 50, 10, 5
		small.RolloutDeployments = 50
		// 5,000 copies each, as many as in full mode's churn: a heap figure per copy
		// needs thousands of copies to rise above the runtime's noise of several MiB
		// (2,000 copies of 64 KiB measured 4.1 to 6.9 KiB per copy).
		small.ScaleWaves = []wave{
			{name: "scale-8k", namespaces: 250, sources: 20, props: 20, bytes: 8 << 10},
			{name: "scale-64k", namespaces: 250, sources: 20, props: 20, bytes: 64 << 10},
		}
		small.CheckTimes = false
		small.Rounds = 1
		return small, nil
	}
	return Config{}, fmt.Errorf("BENCH_SCALE=%q: want full, small or large", scale)
}

// Flags override single preset values; zero means "keep the preset".
var (
	flagNamespaces  = flag.Int("fanout-namespaces", 0, "target namespaces of the fan-out (default 1000; small 100)")
	flagNewNS       = flag.Int("new-namespaces", 0, "namespaces added at once (default 100; small 10)")
	flagSteady      = flag.Duration("steady-state", 0, "steady-state write watch (default 2m; small 15s)")
	flagMemSecrets  = flag.Int("memory-secrets", 0, "unrelated Secrets in scenario 4 (default 20000)")
	flagMemCMs      = flag.Int("memory-configmaps", 0, "unrelated ConfigMaps in scenario 4 (default 10000)")
	flagMemNS       = flag.Int("memory-namespaces", 0, "namespaces of scenario 4 (default 200)")
	flagMemDeploys  = flag.Int("memory-deployments", 0, "opted-in Deployments in scenario 4 (default 200)")
	flagRollout     = flag.Int("rollout-deployments", 0, "Deployments sharing one ConfigMap in scenario 6 (default 500)")
	flagParallelism = flag.Int("parallelism", 0, "baseline client parallelism (default 16, Courier's --child-parallelism)")
	flagOut         = flag.String("report", "", "write the JSON report to this file as well (and the markdown next to it)")
	flagPlots       = flag.String("plots", "", "write the SVG plots of the report into this directory")
	flagWorkDir     = flag.String("workdir", "", "keep kubeconfigs and courier logs in this directory")
	flagScenarios   = flag.String("scenarios", "propagation,rollout,memory,churn,scale", "scenario groups to run")
	flagProfileDir  = flag.String("profile-dir", "", "write heap profiles of scenario 8's manager here")
	flagBinary      = flag.String("courier-binary", "", "run this courier binary instead of building ./cmd/courier")
	flagCheckTimes  = flag.String("check-times", "", "true/false: enforce the time budgets (default: full mode only)")
	flagRounds      = flag.Int("rounds", 0, "timed fan-out/update rounds, median reported (default 3; small 1)")
)

// LoadConfig reads BENCH_SCALE and the flags.
func LoadConfig() (Config, error) {
	c, err := presets(os.Getenv("BENCH_SCALE"))
	if err != nil {
		return c, err
	}
	setInt := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	setInt(&c.FanoutNamespaces, *flagNamespaces)
	setInt(&c.NewNamespaces, *flagNewNS)
	setInt(&c.MemorySecrets, *flagMemSecrets)
	setInt(&c.MemoryConfigMaps, *flagMemCMs)
	setInt(&c.MemoryNamespaces, *flagMemNS)
	setInt(&c.MemoryDeployments, *flagMemDeploys)
	setInt(&c.RolloutDeployments, *flagRollout)
	setInt(&c.Parallelism, *flagParallelism)
	setInt(&c.Rounds, *flagRounds)
	if *flagSteady > 0 {
		c.SteadyState = *flagSteady
	}
	switch *flagCheckTimes {
	case "true":
		c.CheckTimes = true
	case "false":
		c.CheckTimes = false
	}
	c.OutFile, c.WorkDir, c.CourierBinary, c.ProfileDir = *flagOut, *flagWorkDir, *flagBinary, *flagProfileDir
	c.PlotDir = *flagPlots
	c.Groups = strings.Split(*flagScenarios, ",")
	if c.ChurnSources%c.ChurnPropagations != 0 {
		return c, fmt.Errorf("churn sources (%d) must be a multiple of the propagations (%d)", c.ChurnSources, c.ChurnPropagations)
	}
	if c.MemoryNamespaces%c.MemoryPropagations != 0 {
		return c, fmt.Errorf("memory namespaces (%d) must be a multiple of the propagations (%d)", c.MemoryNamespaces, c.MemoryPropagations)
	}
	return c, nil
}
