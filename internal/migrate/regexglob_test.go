package migrate

import (
	"regexp"
	"slices"
	"testing"

	"github.com/courier-operator/courier/internal/glob"
)

func TestRegexToGlobs(t *testing.T) {
	cases := []struct {
		expr string
		want []string // nil with ok false: no exact globs
		ok   bool
	}{
		{"prod", []string{"prod"}, true},
		{"^prod$", []string{"prod"}, true},
		{`\Aprod\z`, []string{"prod"}, true},
		{"team-.*", []string{"team-*"}, true},
		{"^team-.*$", []string{"team-*"}, true},
		{"team-.+", []string{"team-?*"}, true},
		{".*", []string{"*"}, true},
		{"team-.", []string{"team-?"}, true},
		{"(dev|qa)-.*", []string{"dev-*", "qa-*"}, true},
		{"app-(a|b)?", []string{"app-", "app-a", "app-b"}, true},
		{"ns[12]", []string{"ns1", "ns2"}, true},
		{"ns-[a-z0-9-]*", []string{"ns-*"}, true}, // every namespace-name character
		{"(?i)Team-A", []string{"team-a"}, true},
		{"team_.*", nil, true}, // no namespace name holds '_'
		{"app-ns-[0-9]*", nil, false},
		{"a+", nil, false},
		{"x{2,}", nil, false},
		{"[[", nil, false},
	}
	for _, tc := range cases {
		got, ok := regexToGlobs(tc.expr)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("regexToGlobs(%q) = %v, %v; want %v, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRegexToGlobsIsExact checks every conversion against the regular expression
// itself on a corpus of namespace names.
func TestRegexToGlobsIsExact(t *testing.T) {
	names := []string{"", "a", "b", "prod", "prod1", "team-", "team-a", "team-ab", "dev-x", "qa-", "qa-1", "app-", "app-a",
		"app-c", "ns1", "ns2", "ns3", "ns-", "ns-a-b", "x", "xx", "team-a-b"}
	for _, expr := range []string{"prod", "team-.*", "team-.+", "team-.", "(dev|qa)-.*", "app-(a|b)?", "ns[12]", "ns-[a-z0-9-]*", ".*", "(prod|team-.)"} {
		globs, ok := regexToGlobs(expr)
		if !ok {
			t.Fatalf("%q: not converted", expr)
		}
		re := regexp.MustCompile("^(?:" + expr + ")$")
		for _, n := range names {
			if n == "" {
				continue // no namespace is named ""
			}
			if re.MatchString(n) != glob.MatchAny(globs, n) {
				t.Errorf("%q vs %v disagree on %q", expr, globs, n)
			}
		}
	}
}

func TestIntersectGlobs(t *testing.T) {
	cases := []struct {
		a, b  []string
		want  []string
		exact bool
	}{
		{[]string{"team-*"}, []string{"team-a", "other"}, []string{"team-a"}, true},
		{[]string{"*"}, []string{"a", "b-*"}, []string{"a", "b-*"}, true},
		{[]string{"team-*"}, []string{"team-*"}, []string{"team-*"}, true},
		{[]string{"a-*"}, []string{"b-*"}, nil, true},
		{[]string{"team-*"}, []string{"*-prod"}, nil, false},
		{[]string{"team-?"}, []string{"team-*"}, []string{"team-?"}, true},
	}
	for _, tc := range cases {
		got, exact := intersectGlobs(tc.a, tc.b)
		if !slices.Equal(got, tc.want) || exact != tc.exact {
			t.Errorf("intersectGlobs(%v, %v) = %v, %v; want %v, %v", tc.a, tc.b, got, exact, tc.want, tc.exact)
		}
	}
}

func TestGlobCoversIsSound(t *testing.T) {
	names := []string{"a", "ab", "abc", "team-a", "team-ab", "team-", "x-team-a", "team-a-prod"}
	globs := []string{"*", "team-*", "team-?", "team-a", "team-a*", "*-a", "?eam-*", "team-*-prod", "*a*"}
	for _, q := range globs {
		for _, p := range globs {
			if !globCovers(q, p) {
				continue
			}
			for _, n := range names {
				if glob.Match(p, n) && !glob.Match(q, n) {
					t.Errorf("globCovers(%q, %q) but %q matches only the second", q, p, n)
				}
			}
		}
	}
}
