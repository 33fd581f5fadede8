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
	// RSS is VmRSS, the current resident set, in bytes: RSSAnon + RSSFile + shmem.
	RSS int64
	// RSSAnon is RssAnon, the anonymous part of RSS (heap, stacks, runtime), in bytes.
	RSSAnon int64
	// RSSFile is RssFile, the file-backed part of RSS (mostly the executable's pages
	// that were touched), in bytes.
	RSSFile int64
}

// ReadMemory reads VmHWM, VmRSS, RssAnon and RssFile of pid from /proc/<pid>/status
// (Linux only).
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	found := 0 // VmHWM and VmRSS are required; RssAnon/RssFile exist since Linux 4.5
	fields := map[string]*int64{"VmHWM": &m.PeakRSS, "VmRSS": &m.RSS, "RssAnon": &m.RSSAnon, "RssFile": &m.RSSFile}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		dst := fields[key]
		if !ok || dst == nil {
			continue
		}
		val := strings.Fields(rest) // "12345 kB"
		if len(val) != 2 || val[1] != "kB" {
			return Memory{}, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(val[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("parsing %s: %w", key, err)
		}
		*dst = kb * 1024
		if key == "VmHWM" || key == "VmRSS" {
			found++
		}
	}
	if err := sc.Err(); err != nil {
		return Memory{}, err
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("/proc/%d/status has no VmHWM/VmRSS (process gone?)", pid)
	}
	return m, nil
}
