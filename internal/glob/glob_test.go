package glob

import (
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"team-*", "team-a", true},
		{"team-*", "team-", true},
		{"team-*", "team", false},
		{"team-*", "other-team-a", false},
		{"*-prod", "web-prod", true},
		{"*-prod", "web-prod-2", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"web", "web", true},
		{"web", "web2", false},
		{"**", "x", true},
		{"a*a*a*a*b", strings.Repeat("a", 60), false},
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func TestMatchAny(t *testing.T) {
	pats := []string{"team-*", "web"}
	for name, want := range map[string]bool{"team-a": true, "web": true, "api": false} {
		if got := MatchAny(pats, name); got != want {
			t.Errorf("MatchAny(%v, %q) = %v, want %v", pats, name, got, want)
		}
	}
	if MatchAny([]string(nil), "x") {
		t.Error("no patterns must match nothing")
	}
}

// FuzzMatch checks Match against path.Match, which has the same semantics for
// patterns without '[' and '\\' and names without '/'.
func FuzzMatch(f *testing.F) {
	f.Add("team-*", "team-a")
	f.Add("a*b?c", "aXbYc")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// Kubernetes names are valid UTF-8; invalid bytes all decode to U+FFFD.
		if !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return
		}
		if strings.ContainsAny(pattern, "[\\/") || strings.ContainsAny(name, "/") {
			return
		}
		want, err := path.Match(pattern, name)
		if err != nil {
			return
		}
		if got := Match(pattern, name); got != want {
			t.Fatalf("Match(%q, %q) = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}
