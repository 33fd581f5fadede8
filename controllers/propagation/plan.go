package propagation

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/authzpolicy"
	"github.com/courier-operator/courier/internal/copies"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// plan is what one reconcile decided the copies should be: the desired copies of
// every kind, and the policy the copy steps apply to what they find.
type plan struct {
	// desired copies by kind.
	desired map[schema.GroupVersionKind][]*unstructured.Unstructured
	// skipped are the built-in kinds whose sources could not be read (Forbidden):
	// their copies are left as they are, and the step says why.
	skipped map[schema.GroupVersionKind]error
	// others are the kinds besides Secret and ConfigMap whose copies are kept in line
	// (every kind spec.sources names that Courier may use).
	others []schema.GroupVersionKind
	policy copyPolicy
	// takeover is why conflictPolicy Adopt/Overwrite is not applied (nil when it is).
	takeover error
}

// copyPolicy carries the decisions the ChildSets ask about.
type copyPolicy struct {
	conflict v1alpha1.ConflictPolicy
	deletion v1alpha1.DeletionPolicy
	// withdrawn copies are deleted whatever the deletion policy (consent withdrawn).
	withdrawn map[types.NamespacedName]bool
}

func (p copyPolicy) onConflict(live client.Object) (reconciler.ConflictAction, string) {
	// Another propagation's copy is never taken over, whatever the policy: two
	// propagations fighting over one object would loop forever.
	if owner := copies.Owner(live.GetLabels(), live.GetNamespace()); owner != "" {
		return reconciler.ConflictSkip, fmt.Sprintf("%s is a copy managed by %s", client.ObjectKeyFromObject(live), owner)
	}
	switch p.conflict {
	case v1alpha1.ConflictAdopt:
		return reconciler.ConflictAdopt, ""
	case v1alpha1.ConflictOverwrite:
		return reconciler.ConflictOverwrite, ""
	default:
		return reconciler.ConflictSkip, ""
	}
}

func (p copyPolicy) prune(live client.Object) reconciler.PruneAction {
	if p.withdrawn[client.ObjectKeyFromObject(live)] {
		return reconciler.PruneDelete
	}
	if p.deletion == v1alpha1.DeletionOrphan {
		return reconciler.PruneOrphan
	}
	return reconciler.PruneDelete
}

// makePlan is the "plan" step: for each kind, resolve the sources (read live) and
// build their copies for the targets. A kind that is forbidden or unknown does not
// stop the others. Any other read error fails the step, so nothing is pruned on a
// failed read.
func (c *copySets[T]) makePlan(ctx context.Context, s *reconciler.State[T]) error {
	v := c.v.view(s.Object)
	p := &plan{
		desired: map[schema.GroupVersionKind][]*unstructured.Unstructured{},
		skipped: map[schema.GroupVersionKind]error{},
		policy:  copyPolicy{conflict: v.conflictPolicy, deletion: v.deletionPolicy, withdrawn: map[types.NamespacedName]bool{}},
	}
	if err := c.e.mayTakeOver(ctx, v); err != nil {
		if !errors.Is(err, authzpolicy.ErrNotInForce) {
			return err // could not tell: retry rather than act on a guess
		}
		// Fail closed: sync as Skip, and say why until the policy is in force.
		p.policy.conflict = v1alpha1.ConflictSkip
		p.takeover = reconciler.Waiting(retryTakeover, ReasonAdmissionPolicyMissing,
			"conflictPolicy %s is not applied, objects Courier does not manage are left alone: %v (docs/security.md)", v.conflictPolicy, err)
	}
	targets := c.v.targets(c.e, s, p.policy.withdrawn)
	for _, gvk := range c.e.kindsOf(v, false) {
		builtin := isBuiltinKind(gvk)
		if !builtin {
			if err := c.e.kinds.ensure(ctx, gvk); err != nil {
				p.deferKind(err)
				continue
			}
		}
		sources, err := resolveSources(ctx, s.Reader, v, gvk, c.e.opts.Scope, s.NotReady)
		if apierrors.IsForbidden(err) {
			if builtin {
				p.skipped[gvk] = forbiddenWaiting(gvk, err)
			} else {
				p.deferKind(forbiddenWaiting(gvk, err))
			}
			continue
		}
		if err != nil {
			return err
		}
		desired, err := buildCopies(ctx, v, sources, targets)
		if err != nil {
			return err
		}
		p.desired[gvk] = desired
		if !builtin {
			p.others = append(p.others, gvk)
		}
	}
	c.planned.Set(s, p)
	return nil
}

// deferKind records why a kind other than Secret and ConfigMap is not synced in
// this reconcile; the "takeover" step returns the first such reason (after every
// kind was tried).
func (p *plan) deferKind(err error) {
	if p.takeover == nil {
		p.takeover = err
	}
}

// takeover is the step that reports, once every kind was synced, why some of the
// plan could not be carried out (the admission policy missing for a takeover, or
// a kind Courier may not use).
func (c *copySets[T]) takeover(_ context.Context, s *reconciler.State[T]) error {
	p, err := c.current(s)
	if err != nil {
		return err
	}
	return p.takeover
}

// release is the finalizer's cleanup: every copy is deleted, or orphaned
// (management labels removed) under deletionPolicy Orphan, of every kind this
// propagation names or this process has seen.
func (c *copySets[T]) release(ctx context.Context, s *reconciler.State[T]) error {
	v := c.v.view(s.Object)
	// A name that is not a valid label value was never stamped on any copy (the API
	// server rejects such labels), so nothing is left to clean; listing by it would be
	// rejected on every try and hold the finalizer forever.
	if errs := validation.IsValidLabelValue(v.ownerName); len(errs) > 0 {
		forgetMetrics(v.metricName)
		return nil
	}
	p := &plan{policy: copyPolicy{deletion: v.deletionPolicy}}
	for _, gvk := range c.e.kindsOf(v, true) {
		if isBuiltinKind(gvk) {
			continue
		}
		if err := c.e.kinds.ensure(ctx, gvk); err != nil {
			// Without access Courier cannot have copies of this kind left to clean;
			// do not hold the finalizer forever.
			s.Log.Info("skipping cleanup of a kind Courier cannot access", "kind", gvk.String(), "reason", err.Error())
			continue
		}
		p.others = append(p.others, gvk)
	}
	c.planned.Set(s, p)
	for _, release := range c.releases {
		if err := release(ctx, s); err != nil {
			return err
		}
	}
	forgetMetrics(v.metricName)
	return nil
}
