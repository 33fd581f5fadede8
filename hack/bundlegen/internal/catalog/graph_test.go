package catalog

import (
	"strings"
	"testing"
)

func TestAddBuildsALinearGraphWithSkipRanges(t *testing.T) {
	var chs []Channel
	var err error
	for _, n := range []string{"p.v0.1.0", "p.v0.2.0", "p.v1.0.0"} {
		if chs, err = Add(chs, "p", n, []string{"candidate", "stable"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chs {
		if err := Check(c); err != nil {
			t.Fatal(err)
		}
		h, _ := Head(c)
		if h.Name != "p.v1.0.0" || h.Replaces != "p.v0.2.0" || h.SkipRange != ">=0.1.0 <1.0.0" {
			t.Errorf("channel %s head %+v", c.Name, h)
		}
	}
	if _, err := Add(chs, "p", "p.v0.3.0", []string{"stable"}); err == nil {
		t.Error("adding a version older than the head must fail")
	}
}

func TestCheckRejectsBrokenGraphs(t *testing.T) {
	cases := map[string][]Entry{
		"heads":    {{Name: "p.v0.1.0"}, {Name: "p.v0.2.0"}},
		"cycle":    {{Name: "p.v0.1.0", Replaces: "p.v0.2.0"}, {Name: "p.v0.2.0", Replaces: "p.v0.1.0"}},
		"stranded": {{Name: "p.v0.1.0"}, {Name: "p.v0.3.0", Replaces: "p.v0.1.0", Skips: []string{"p.v0.2.0"}}, {Name: "p.v0.2.0", Replaces: "p.v0.1.0"}},
		"range":    {{Name: "p.v0.1.0"}, {Name: "p.v0.2.0", Replaces: "p.v0.1.0", SkipRange: ">=0.1.0 <"}},
		"newer":    {{Name: "p.v0.2.0"}, {Name: "p.v0.1.0", Replaces: "p.v0.2.0"}},
	}
	for name, entries := range cases {
		if err := Check(Channel{Name: name, Entries: entries}); err == nil {
			t.Errorf("%s: Check accepted %v", name, entries)
		} else if !strings.Contains(err.Error(), "channel "+name) {
			t.Errorf("%s: error does not name the channel: %v", name, err)
		}
	}
}
