package workloadrefs

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Collect returns every ConfigMap and Secret a workload consumes, sorted: the ones its
// pod spec references, plus the ones listed in extra (the extra-refs annotation value,
// always required), minus the ones listed in exclude (the exclude annotation value).
//
// The references are always returned; the error, if any, describes invalid entries
// in the annotations (which are skipped) and is meant for an event, not for failing
// the reconcile.
func Collect(spec *corev1.PodSpec, extra, exclude string) ([]Reference, error) {
	c := collector{}
	c.addPodSpec(spec)
	var errs []error
	if extra != "" {
		refs, err := ParseList(extra)
		if err != nil {
			errs = append(errs, fmt.Errorf("extra references: %w", err))
		}
		for _, r := range refs {
			c.addRequired(r)
		}
	}
	if exclude != "" {
		refs, err := ParseList(exclude)
		if err != nil {
			errs = append(errs, fmt.Errorf("excluded references: %w", err))
		}
		for _, r := range refs {
			delete(c, r)
		}
	}
	out := make([]Reference, 0, len(c))
	for _, r := range slices.SortedFunc(maps.Keys(c), Ref.Compare) {
		m := c[r]
		ref := Reference{Ref: r, Optional: m.optional}
		if !m.whole {
			ref.Keys = slices.Sorted(maps.Keys(m.keys))
		}
		out = append(out, ref)
	}
	return out, errors.Join(errs...)
}

// Refs returns just the Refs of references, in the same order.
func Refs(refs []Reference) []Ref {
	out := make([]Ref, len(refs))
	for i, r := range refs {
		out[i] = r.Ref
	}
	return out
}
