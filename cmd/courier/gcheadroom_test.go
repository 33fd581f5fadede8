package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestPaceCollectorFlag checks --gc-headroom's parsing: bad or negative quantities
// are refused with the flag's name, and 0 (the default) leaves GOGC alone.
func TestPaceCollectorFlag(t *testing.T) {
	t.Setenv("GOGC", "")
	for _, bad := range []string{"lots", "-16Mi"} {
		err := paceCollector(bad)
		if err == nil || !strings.Contains(err.Error(), "--gc-headroom") {
			t.Errorf("paceCollector(%q) = %v, want an error naming --gc-headroom", bad, err)
		}
	}
	before := debug.SetGCPercent(100)
	debug.SetGCPercent(before)
	if err := paceCollector("0"); err != nil {
		t.Fatalf("paceCollector(0) = %v", err)
	}
	if after := debug.SetGCPercent(before); after != before {
		t.Fatalf("GOGC %d after --gc-headroom=0, want %d untouched", after, before)
	}
}
