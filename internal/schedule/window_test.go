package schedule

import (
	"strings"
	"testing"
	"time"
)

func must(t *testing.T, s string) Windows {
	t.Helper()
	ws, err := ParseWindows(s)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestParseWindowsRefusesWhatItCannotRead(t *testing.T) {
	for _, bad := range []string{
		"Mon", "Mon 02:00", "Funday 02:00-03:00", "Mon 2:00-03:00x", "Mon 25:00-26:00", "Mon 02:60-03:00",
		"Mon 24:00-02:00", "Mon 02:00-02:00", "Mon 02:00-03:00 Mars/Olympus", "Mon 02:00-03:00 UTC extra",
		"Mon-Fri,Sun-Xyz 02:00-03:00",
	} {
		if _, err := ParseWindows(bad); err == nil {
			t.Errorf("ParseWindows(%q) accepted it", bad)
		} else if !strings.Contains(err.Error(), bad) && !strings.Contains(err.Error(), strings.Fields(bad)[0]) {
			t.Errorf("ParseWindows(%q): error %q does not name the window", bad, err)
		}
	}
	if _, err := ParseWindows(strings.Repeat("* 01:00-02:00;", MaxWindows+1)); err == nil {
		t.Errorf("more than %d windows accepted", MaxWindows)
	}
	ws := must(t, " Mon-Fri  22:00-06:00 Europe/Berlin ;; sat,SUN 00:00-24:00 ")
	if got := ws.String(); got != "Mon-Fri 22:00-06:00 Europe/Berlin; sat,SUN 00:00-24:00" {
		t.Errorf("String() = %q", got)
	}
	if ws, err := ParseWindows(""); err != nil || len(ws) != 0 {
		t.Errorf(`ParseWindows("") = %v, %v; want no windows`, ws, err)
	}
}

func TestOpenAcrossDaysMidnightAndZones(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	nightly := must(t, "Mon-Fri 22:00-06:00 Europe/Berlin")
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, berlin) } // 30 Nov 2026 is a Monday
	for _, c := range []struct {
		t    time.Time
		want bool
	}{
		{at(30, 21, 59), false}, {at(30, 22, 0), true}, {at(30, 23, 59), true},
		{time.Date(2026, 12, 1, 5, 59, 0, 0, berlin), true}, // Tuesday morning, from Monday night
		{time.Date(2026, 12, 1, 6, 0, 0, 0, berlin), false},
		{at(29, 23, 0), false},                                  // Sunday night: not listed
		{at(30, 3, 0), false},                                   // Monday morning: Sunday night is not listed
		{time.Date(2026, 12, 5, 3, 0, 0, 0, berlin), true},      // Saturday morning, from Friday night
		{time.Date(2026, 11, 30, 21, 30, 0, 0, time.UTC), true}, // 22:30 in Berlin
	} {
		if got := nightly.Open(c.t); got != c.want {
			t.Errorf("Open(%s) = %v, want %v", c.t.Format(time.RFC3339), got, c.want)
		}
	}
	if !(Windows{}).Open(at(30, 12, 0)) {
		t.Error("no windows must allow every moment")
	}
	if !must(t, "* 00:00-24:00").Open(at(29, 23, 59)) {
		t.Error("* 00:00-24:00 must be always open")
	}
}

func TestNextOpenAndEarliest(t *testing.T) {
	ws := must(t, "Sat,Sun 02:00-04:00")
	fri := time.Date(2026, 12, 4, 15, 30, 20, 0, time.UTC) // a Friday
	next, ok := ws.NextOpen(fri)
	if want := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("NextOpen(Friday) = %s, %v; want %s", next, ok, want)
	}
	inside := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	if next, _ := ws.NextOpen(inside); !next.Equal(inside) {
		t.Errorf("NextOpen inside a window = %s, want now", next)
	}

	// The minimum interval pushes past the window; the next one is a day later.
	last := time.Date(2026, 12, 5, 2, 30, 0, 0, time.UTC)
	got, ok := Earliest(inside, ws, last, 2*time.Hour)
	if want := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("Earliest = %s, %v; want %s", got, ok, want)
	}
	if got, _ := Earliest(inside, nil, last, time.Hour); !got.Equal(last.Add(time.Hour)) {
		t.Errorf("Earliest without windows = %s, want last + interval", got)
	}
	if got, _ := Earliest(inside, nil, time.Time{}, time.Hour); !got.Equal(inside) {
		t.Errorf("Earliest with no rollout yet = %s, want now", got)
	}
}
