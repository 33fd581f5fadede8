package workloadrefs

import (
	"cmp"
	"strings"
)

// Kind is the kind of object a workload may consume.
type Kind string

const (
	// ConfigMap is a core/v1 ConfigMap.
	ConfigMap Kind = "ConfigMap"
	// Secret is a core/v1 Secret.
	Secret Kind = "Secret"
)

// Ref names one ConfigMap or Secret in the workload's own namespace.
type Ref struct {
	Kind Kind
	Name string
}

// String renders the reference as "configmap/<name>" or "secret/<name>": the form the
// annotations accept and the one used in events, logs and the field index.
func (r Ref) String() string { return strings.ToLower(string(r.Kind)) + "/" + r.Name }

// Compare orders references by kind, then name.
func (r Ref) Compare(o Ref) int {
	if c := cmp.Compare(r.Kind, o.Kind); c != 0 {
		return c
	}
	return cmp.Compare(r.Name, o.Name)
}

// Reference is a Ref found in a workload, with whether the workload can run without it.
type Reference struct {
	Ref
	// Optional is true when every mention of the object is marked optional, so its
	// absence is expected and not reported.
	Optional bool
	// Keys are the keys of the object the workload reads, sorted, when every mention
	// reads named keys (env configMapKeyRef/secretKeyRef, volume items); nil when
	// one reads the whole object (envFrom, a volume without items, extra-refs).
	Keys []string
}
