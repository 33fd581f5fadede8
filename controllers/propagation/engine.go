package propagation

import (
	"context"
	"errors"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/authzpolicy"
	"github.com/courier-operator/courier/pkg/reconciler"
)

var (
	secretGVK    = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

// engine is the logic shared by both controllers.
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
	seen := map[schema.GroupVersionKind]bool{secretGVK: true, configMapGVK: true}
	add := func(g schema.GroupVersionKind) {
		if !seen[g] {
			seen[g] = true
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

// syncCopies is the body of the "copies" step: for each kind, resolve the sources,
// build the copies for the targets and keep them in line with a ChildSet; then
// summarise into status, metrics and events. Kinds are independent: a kind that is
// forbidden or unknown does not stop the others, and its error is returned at the
// end (so Ready=False says why).
func syncCopies[T reconciler.Object](ctx context.Context, e *engine, s *reconciler.State[T], v view,
	targets targeting, withdrawn map[types.NamespacedName]bool) error {
	start := time.Now()
	defer func() { syncDuration.WithLabelValues(s.Controller()).Observe(time.Since(start).Seconds()) }()

	policy := copyPolicy{v: v, withdrawn: withdrawn, parallelism: e.opts.ChildParallelism}
	var t tally
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	if err := e.mayTakeOver(ctx, v); err != nil {
		if !errors.Is(err, authzpolicy.ErrNotInForce) {
			return err // could not tell: retry rather than act on a guess
		}
		// Fail closed: sync as Skip, and say why until the policy is in force.
		policy.v.conflictPolicy = v1alpha1.ConflictSkip
		keep(reconciler.Waiting(retryTakeover, ReasonAdmissionPolicyMissing,
			"conflictPolicy %s is not applied, objects Courier does not manage are left alone: %v (docs/security.md)", v.conflictPolicy, err))
	}
	for _, gvk := range e.kindsOf(v, false) {
		if !isBuiltinKind(gvk) {
			if err := e.kinds.ensure(ctx, gvk); err != nil {
				keep(err)
				continue
			}
		}
		sources, err := resolveSources(ctx, s.Reader, v, gvk, s.NotReady)
		if err != nil {
			if apierrors.IsForbidden(err) {
				keep(forbiddenWaiting(gvk, err))
				continue
			}
			return err // never prune on a failed read
		}
		desired, err := buildCopies(ctx, v, sources, targets)
		if err != nil {
			return err
		}
		report, err := syncKind(ctx, s, gvk, desired, policy)
		recordOperations(report)
		t.add(report)
		if err != nil {
			keep(err)
		}
	}

	previousConflicts := v.status.Conflicting
	t.apply(v.status, time.Now())
	t.observe(v.metricName)
	if t.wrote() {
		s.Eventf("Normal", "Synced", "%s", t.summary())
	}
	if t.conflicting > 0 && int32(t.conflicting) != previousConflicts {
		s.Eventf("Warning", "Conflict", "%d target(s) hold an object Courier does not manage (conflictPolicy %s)", t.conflicting, v.conflictPolicy)
	}
	return firstErr
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

// cleanupCopies runs when a propagation is deleted: every copy is deleted, or
// orphaned (management labels removed) under deletionPolicy Orphan.
func cleanupCopies[T reconciler.Object](ctx context.Context, e *engine, s *reconciler.State[T], v view) error {
	// A name that is not a valid label value was never stamped on any copy (the API
	// server rejects such labels), so nothing is left to clean; listing by it would be
	// rejected on every try and hold the finalizer forever.
	if errs := validation.IsValidLabelValue(v.ownerName); len(errs) > 0 {
		forgetMetrics(v.metricName)
		return nil
	}
	policy := copyPolicy{v: v, parallelism: e.opts.ChildParallelism, listLive: true}
	for _, gvk := range e.kindsOf(v, true) {
		if !isBuiltinKind(gvk) {
			if err := e.kinds.ensure(ctx, gvk); err != nil {
				// Without access Courier cannot have copies of this kind left to
				// clean; do not hold the finalizer forever.
				s.Log.Info("skipping cleanup of a kind Courier cannot access", "kind", gvk.String(), "reason", err.Error())
				continue
			}
		}
		report, err := syncKind(ctx, s, gvk, nil, policy)
		recordOperations(report)
		if err != nil {
			return err
		}
	}
	forgetMetrics(v.metricName)
	return nil
}
