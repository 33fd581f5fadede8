package propagation

import (
	"context"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/courier-operator/courier/api/v1alpha1"
)

var (
	secretGVK    = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

// engine is what both variants' controllers share: the options and the registry of
// kinds other than Secret and ConfigMap.
type engine struct {
	opts  Options
	kinds *kindRegistry
}

// kindsOf returns the kinds whose copies a reconcile must look at: Secrets and
// ConfigMaps always (so copies of a kind removed from spec.sources are pruned), plus
// every other kind spec.sources names, plus (when cleaning up) every other kind
// this process has seen.
func (e *engine) kindsOf(v view, includeKnown bool) []schema.GroupVersionKind {
	out := []schema.GroupVersionKind{secretGVK, configMapGVK}
	add := func(g schema.GroupVersionKind) {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	for _, ref := range v.sources {
		add(gvkOf(ref))
	}
	if includeKnown {
		for _, g := range e.kinds.known() {
			add(g)
		}
	}
	return out
}

// retryTakeover is how often a propagation whose takeover waits for the admission
// policy looks again (the Guard re-reads the policy at most every 30 s).
const retryTakeover = time.Minute

// mayTakeOver returns nil unless v asks Courier to take over unmanaged objects
// (Adopt, Overwrite) and the admission policy that checked its author's right to
// do so is not in force: then what a user may not do directly, Courier must not do
// for them either.
func (e *engine) mayTakeOver(ctx context.Context, v view) error {
	if v.conflictPolicy != v1alpha1.ConflictAdopt && v.conflictPolicy != v1alpha1.ConflictOverwrite {
		return nil
	}
	var kinds []schema.GroupKind
	for _, ref := range v.sources {
		if gk := gvkOf(ref).GroupKind(); !slices.Contains(kinds, gk) {
			kinds = append(kinds, gk)
		}
	}
	return e.opts.Takeover.Verify(ctx, kinds...)
}
