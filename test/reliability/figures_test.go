package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// figures are what the suite reports at the end: how much abuse Courier survived.
var figures struct {
	killPoints     atomic.Int64 // SIGKILLs at a random point of a fan-out, update or deletion
	lateKills      atomic.Int64 // of which the operation had already finished when the kill landed
	restarts       atomic.Int64 // manager processes started after the first
	apiRestarts    atomic.Int64 // API server restarts
	leaderKills    atomic.Int64 // leaders killed with a standby running
	badInputs      atomic.Int64 // invalid or hostile specs and objects tried
	consentCases   atomic.Int64 // consent × kind × namespace combinations checked
	writerEdits    atomic.Int64 // edits the concurrent writer made
	leakScanBytes  atomic.Int64 // bytes of logs, events, metrics and status scanned
	copiesVerified atomic.Int64 // copies checked byte for byte
	faults         atomic.Int64 // faults injected between the manager and the API server
	faultReport    string       // what the fault suite measured
}

// reportFigures prints the figures and writes them to bin/reliability-report.txt.
func reportFigures() {
	lines := []string{
		fmt.Sprintf("settings: soak=%v kills=%d fanout=%d restarts=%d writer=%ds fight=%ds fault rounds=%d fault targets=%d blackhole=%ds",
			cfgs.Soak, cfgs.Kills, cfgs.Fanout, cfgs.Restarts, cfgs.WriterSeconds, cfgs.FightSeconds, cfgs.FaultRounds, cfgs.FaultTargets, cfgs.BlackholeSeconds),
		fmt.Sprintf("kill points survived (SIGKILL mid fan-out/update/delete): %d (%d landed after the operation finished)", figures.killPoints.Load(), figures.lateKills.Load()),
		fmt.Sprintf("manager restarts: %d", figures.restarts.Load()),
		fmt.Sprintf("API server restarts: %d", figures.apiRestarts.Load()),
		fmt.Sprintf("leaders killed: %d", figures.leaderKills.Load()),
		fmt.Sprintf("bad inputs tried: %d", figures.badInputs.Load()),
		fmt.Sprintf("consent cases: %d", figures.consentCases.Load()),
		fmt.Sprintf("concurrent writer edits: %d", figures.writerEdits.Load()),
		fmt.Sprintf("copies verified byte for byte: %d", figures.copiesVerified.Load()),
		fmt.Sprintf("bytes scanned for Secret data: %d", figures.leakScanBytes.Load()),
		fmt.Sprintf("faults between the manager and the API server: %s", figures.faultReport),
	}
	text := "reliability figures\n  " + strings.Join(lines, "\n  ") + "\n"
	fmt.Fprint(os.Stdout, text)
	dir := filepath.Join(repoRoot, "bin")
	if os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, "reliability-report.txt"), []byte(text), 0o644)
	}
}
