package nsscope

import (
	"maps"
	"slices"
	"testing"
)

func TestScope(t *testing.T) {
	all := New()
	if !all.All() || !all.Contains("anything") || all.CacheNamespaces() != nil ||
		all.String() != "all namespaces" || all.Names() != nil {
		t.Errorf("the zero scope is not every namespace: %+v", all)
	}
	if !New("", " ").All() {
		t.Error("blank names make a limited scope")
	}
	s := New("team-b", " team-a", "team-b", "")
	if s.All() || !slices.Equal(s.Names(), []string{"team-a", "team-b"}) || s.String() != "team-a,team-b" {
		t.Errorf("New did not sort, trim and dedupe: %v", s.Names())
	}
	for ns, want := range map[string]bool{"team-a": true, "team-b": true, "team-c": false, "": false, "team": false} {
		if got := s.Contains(ns); got != want {
			t.Errorf("Contains(%q) = %v, want %v", ns, got, want)
		}
	}
	if got := slices.Sorted(maps.Keys(s.CacheNamespaces())); !slices.Equal(got, []string{"team-a", "team-b"}) {
		t.Errorf("CacheNamespaces = %v", got)
	}
}
