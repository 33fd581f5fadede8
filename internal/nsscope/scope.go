package nsscope

import (
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// Scope is a set of namespace names. The zero Scope (no names) is every namespace.
type Scope struct {
	names []string // sorted, unique
}

// New returns the scope of names, ignoring blanks and repeats. No names is every
// namespace.
func New(names ...string) Scope {
	var s Scope
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			s.names = append(s.names, n)
		}
	}
	slices.Sort(s.names)
	s.names = slices.Compact(s.names)
	return s
}

// All reports whether the scope is every namespace (a cluster-wide install).
func (s Scope) All() bool { return len(s.names) == 0 }

// Names returns the scope's namespaces, sorted; nil for every namespace.
func (s Scope) Names() []string { return slices.Clone(s.names) }

// Contains reports whether namespace ns is in the scope.
func (s Scope) Contains(ns string) bool {
	if s.All() {
		return true
	}
	_, found := slices.BinarySearch(s.names, ns)
	return found
}

// CacheNamespaces is the scope as controller-runtime's cache.Options.DefaultNamespaces
// (and cluster.Options' Cache): one entry per namespace, nil for every namespace.
// Cluster-scoped kinds are cached whole either way.
func (s Scope) CacheNamespaces() map[string]cache.Config {
	if s.All() {
		return nil
	}
	out := make(map[string]cache.Config, len(s.names))
	for _, n := range s.names {
		out[n] = cache.Config{}
	}
	return out
}

// String lists the namespaces, comma separated, or says "all namespaces".
func (s Scope) String() string {
	if s.All() {
		return "all namespaces"
	}
	return strings.Join(s.names, ",")
}
