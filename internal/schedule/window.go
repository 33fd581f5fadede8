package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Windows is a set of weekly windows; an empty set allows every moment.
type Windows []Window

// Window is a weekly time range in one location: on the days it lists, from Start
// to End (minutes after midnight, local time). An End at or before Start wraps
// past midnight into the next day; "00:00-24:00" is the whole day.
type Window struct {
	Days       [7]bool // indexed by time.Weekday
	Start, End int     // minutes after midnight, 0..1440
	Location   *time.Location
	text       string
}

func (w Window) String() string { return w.text }

// String is the canonical form of the set, as ParseWindows reads it.
func (ws Windows) String() string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.text
	}
	return strings.Join(parts, "; ")
}

// MaxWindows bounds how many windows one value may list.
const MaxWindows = 16

// ParseWindows reads windows separated by ";": each "DAYS HH:MM-HH:MM [ZONE]",
// where DAYS is a comma-separated list of days or day ranges (Mon, Tue-Thu,
// Sat,Sun, or * for every day) and ZONE an IANA time zone (default UTC). For
// example "Mon-Fri 22:00-06:00 Europe/Berlin; Sat,Sun 00:00-24:00". An empty
// value is no restriction.
func ParseWindows(s string) (Windows, error) {
	var out Windows
	var errs []error
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		w, err := parseWindow(part)
		if err != nil {
			errs = append(errs, fmt.Errorf("window %q: %w", part, err))
			continue
		}
		out = append(out, w)
	}
	if len(out)+len(errs) > MaxWindows {
		return nil, fmt.Errorf("%d windows, at most %d", len(out)+len(errs), MaxWindows)
	}
	return out, errors.Join(errs...)
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func parseWindow(s string) (Window, error) {
	fields := strings.Fields(s)
	if len(fields) < 2 || len(fields) > 3 {
		return Window{}, errors.New(`want "DAYS HH:MM-HH:MM [ZONE]"`)
	}
	w := Window{Location: time.UTC}
	if err := w.parseDays(fields[0]); err != nil {
		return Window{}, err
	}
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return Window{}, fmt.Errorf("hours %q: want HH:MM-HH:MM", fields[1])
	}
	var err error
	if w.Start, err = minutes(from, false); err != nil {
		return Window{}, err
	}
	if w.End, err = minutes(to, true); err != nil {
		return Window{}, err
	}
	if w.Start == w.End {
		return Window{}, fmt.Errorf("hours %q: an empty window", fields[1])
	}
	if len(fields) == 3 {
		if w.Location, err = time.LoadLocation(fields[2]); err != nil {
			return Window{}, fmt.Errorf("time zone %q: %w", fields[2], err)
		}
	}
	w.text = strings.Join(fields, " ")
	return w, nil
}

func (w *Window) parseDays(s string) error {
	if s == "*" {
		for i := range w.Days {
			w.Days[i] = true
		}
		return nil
	}
	for item := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(strings.ToLower(item), "-")
		first, ok1 := weekdays[from]
		last, ok2 := weekdays[to]
		if !isRange {
			last, ok2 = first, ok1
		}
		if !ok1 || !ok2 {
			return fmt.Errorf("days %q: want Mon, Tue-Thu, Sat,Sun or *", s)
		}
		for d := first; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == last {
				break
			}
		}
	}
	return nil
}

// minutes parses HH:MM; end allows 24:00.
func minutes(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && (mm != 0 || !end)) {
		return 0, fmt.Errorf("time %q: want HH:MM (00:00 to 23:59, or 24:00 as an end)", s)
	}
	return hh*60 + mm, nil
}

// Open reports whether t is inside one of the windows (always, for none).
func (ws Windows) Open(t time.Time) bool {
	if len(ws) == 0 {
		return true
	}
	for _, w := range ws {
		if w.open(t) {
			return true
		}
	}
	return false
}

func (w Window) open(t time.Time) bool {
	l := t.In(w.Location)
	m := l.Hour()*60 + l.Minute()
	day := l.Weekday()
	if w.Start < w.End {
		return w.Days[day] && m >= w.Start && m < w.End
	}
	// Wraps past midnight: the evening part on a listed day, the morning part on
	// the day after one.
	return (w.Days[day] && m >= w.Start) || (w.Days[(day+6)%7] && m < w.End)
}

// NextOpen returns the first moment at or after t when a window is open; t itself
// when one is open now or there are none. It looks a week and a day ahead, which
// any valid set of windows opens within; false means none does (no day listed).
func (ws Windows) NextOpen(t time.Time) (time.Time, bool) {
	if ws.Open(t) {
		return t, true
	}
	// Windows open on whole minutes: step to the next minute, then by minutes.
	// A week has 10,080 of them; the walk is bounded and cheap.
	c := t.Truncate(time.Minute).Add(time.Minute)
	for limit := t.Add(8 * 24 * time.Hour); !c.After(limit); c = c.Add(time.Minute) {
		if ws.Open(c) {
			return c, true
		}
	}
	return time.Time{}, false
}

// Earliest returns the first moment at or after t when a workload may roll: inside
// the windows, and at least interval after its last rollout (a zero interval or
// last is no minimum). false means the windows never open.
func Earliest(t time.Time, ws Windows, last time.Time, interval time.Duration) (time.Time, bool) {
	if interval > 0 && !last.IsZero() && t.Before(last.Add(interval)) {
		t = last.Add(interval)
	}
	return ws.NextOpen(t)
}
