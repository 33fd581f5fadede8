package managerproc

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is the resident memory of a process as the kernel reports it.
type Memory struct {
	// PeakRSS is VmHWM, the high-water mark of the resident set since the process
	// started, in bytes.
	PeakRSS int64
	// RSS is VmRSS, the current resident set, in bytes.
	RSS int64
}

// ReadMemory reads VmHWM and VmRSS of pid from /proc/<pid>/status (Linux only).
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		fields := strings.Fields(rest) // "12345 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("parsing %s: %w", key, err)
		}
		if key == "VmHWM" {
			m.PeakRSS = kb * 1024
		} else {
			m.RSS = kb * 1024
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return Memory{}, err
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("/proc/%d/status has no VmHWM/VmRSS (process gone?)", pid)
	}
	return m, nil
}
