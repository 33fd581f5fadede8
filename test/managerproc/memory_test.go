package managerproc

import (
	"os"
	"testing"
)

func TestReadMemorySelf(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if m.RSS <= 0 || m.PeakRSS < m.RSS {
		t.Errorf("implausible memory %+v", m)
	}
}
