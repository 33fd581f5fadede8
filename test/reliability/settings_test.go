package reliability

import (
	"flag"
	"os"
	"strconv"
)

// settings are the suite's knobs. Every knob has an environment variable (what
// `make` passes through) and a test flag (`go test ./test/reliability -args
// -reliability.kills=10`); the flag wins when set.
type settings struct {
	// Soak raises every count below to its soak default (RELIABILITY_SOAK=1).
	Soak bool
	// Kills is the number of crash cycles; each cycle kills the manager once during
	// a fan-out, once during a source update and once during a deletion.
	Kills int
	// Fanout is the number of target namespaces of the crash and leader tests.
	Fanout int
	// Restarts is the number of unchanged-input restarts of the rollout test.
	Restarts int
	// WriterSeconds is how long the concurrent writer runs.
	WriterSeconds int
	// FightSeconds is how long the writer that rewrites one copy at 10 edits/s runs.
	FightSeconds int
	// FaultTargets is the number of target namespaces of the fault suite.
	FaultTargets int
	// FaultRounds is how many times the fault suite runs each short fault class.
	FaultRounds int
	// BlackholeSeconds is how long the link to the API server swallows everything.
	BlackholeSeconds int
}

var (
	flagKills    = flag.Int("reliability.kills", 0, "crash cycles (3 kill points each); 0: RELIABILITY_KILLS or the default")
	flagFanout   = flag.Int("reliability.fanout", 0, "target namespaces of a fan-out; 0: RELIABILITY_FANOUT or the default")
	flagRestarts = flag.Int("reliability.restarts", 0, "unchanged-input restarts; 0: RELIABILITY_RESTARTS or the default")
)

// loadSettings reads the environment and the flags.
func loadSettings() settings {
	s := settings{Soak: os.Getenv("RELIABILITY_SOAK") == "1"}
	s.Kills = pick(*flagKills, "RELIABILITY_KILLS", 3, 25, s.Soak)
	s.Fanout = pick(*flagFanout, "RELIABILITY_FANOUT", 40, 250, s.Soak)
	s.Restarts = pick(*flagRestarts, "RELIABILITY_RESTARTS", 3, 20, s.Soak)
	s.WriterSeconds = pick(0, "RELIABILITY_WRITER_SECONDS", 6, 60, s.Soak)
	s.FightSeconds = pick(0, "RELIABILITY_FIGHT_SECONDS", 20, 60, s.Soak)
	// Seven short classes: 2 rounds make 14 faults (plus 2 long ones) in make test,
	// 7 rounds make 51 in the soak.
	s.FaultTargets = pick(0, "RELIABILITY_FAULT_TARGETS", 10, 50, s.Soak)
	s.FaultRounds = pick(0, "RELIABILITY_FAULT_ROUNDS", 2, 7, s.Soak)
	s.BlackholeSeconds = pick(0, "RELIABILITY_BLACKHOLE_SECONDS", 60, 60, s.Soak)
	return s
}

func pick(flagValue int, env string, short, soak int, isSoak bool) int {
	if flagValue > 0 {
		return flagValue
	}
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	if isSoak {
		return soak
	}
	return short
}
