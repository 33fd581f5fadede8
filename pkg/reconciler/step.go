package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Step is one unit of reconcile logic. Reconcile returns nil when done, or an error
// classified by Terminal, Waiting, or (any other error) transient.
type Step[T client.Object] interface {
	Name() string
	Reconcile(ctx context.Context, s *State[T]) error
}

// sequence runs steps in order and stops at the first error (Waiting and Terminal
// included). It is what Builder.Steps declares.
type sequence[T client.Object] []Step[T]

func (q sequence[T]) Name() string { return "sequence" }

func (q sequence[T]) Reconcile(ctx context.Context, s *State[T]) error {
	for _, st := range q {
		if err := runStep(ctx, s, st); err != nil {
			return err
		}
	}
	return nil
}

func (q sequence[T]) validate() error { return validateSteps(q) }
func (q sequence[T]) combines()       {}

// All runs every step, in order, even when an earlier one fails, and returns the
// first error. Use it for steps that are independent of each other (children of
// different kinds, say), so one failing does not hold the others back.
func All[T client.Object](steps ...Step[T]) Step[T] { return all[T](steps) }

type all[T client.Object] []Step[T]

func (a all[T]) Name() string { return "all" }

func (a all[T]) Reconcile(ctx context.Context, s *State[T]) error {
	var first error
	for _, st := range a {
		err := runStep(ctx, s, st)
		if errors.Is(err, errHalt) {
			return err // a Finalizer released the primary: nothing more may run
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (a all[T]) validate() error { return validateSteps(a) }
func (a all[T]) combines()       {}

// combinator marks the steps made of steps, whose own duration and outcome are not
// recorded (their steps' are).
type combinator interface{ combines() }

// validator is implemented by steps whose declaration can be checked once, when
// the controller is built (ChildSetStep, and the combinators for their steps).
type validator interface{ validate() error }

func validateSteps[T client.Object](steps []Step[T]) error {
	for _, st := range steps {
		if st == nil {
			return errors.New("a step is nil")
		}
		if v, ok := st.(validator); ok {
			if err := v.validate(); err != nil {
				return fmt.Errorf("step %q: %w", st.Name(), err)
			}
		}
	}
	return nil
}

// runStep runs one step with metrics and logging; the combinators are not measured
// themselves (their steps are).
func runStep[T client.Object](ctx context.Context, s *State[T], st Step[T]) error {
	start := time.Now()
	err := st.Reconcile(ctx, s)
	if _, ok := st.(combinator); ok {
		return err
	}
	outcome := Classify(err)
	s.metrics.step(s.controller, st.Name(), outcome, time.Since(start))
	if outcome != OutcomeDone {
		s.Log.V(1).Info("step did not complete", "step", st.Name(), "outcome", outcome, "error", err.Error())
	}
	return err
}

type syncStep[T client.Object] struct {
	name string
	fn   func(ctx context.Context, s *State[T]) error
}

// Sync is a step made of a function.
func Sync[T client.Object](name string, fn func(ctx context.Context, s *State[T]) error) Step[T] {
	return syncStep[T]{name: name, fn: fn}
}

func (f syncStep[T]) Name() string { return f.name }
func (f syncStep[T]) Reconcile(ctx context.Context, s *State[T]) error {
	return f.fn(ctx, s)
}

type finalizerStep[T client.Object] struct {
	name, finalizer string
	cleanup         func(ctx context.Context, s *State[T]) error
}

// Finalizer guards the steps after it with a finalizer.
//
// While the primary is not being deleted, it adds the finalizer (patching only
// metadata.finalizers, with optimistic locking) before any later step runs. When the
// primary is being deleted it runs cleanup (if not nil), removes the finalizer only
// after cleanup returned nil, and stops the sequence: later steps never run on
// delete. If the finalizer is already gone on delete, nothing runs.
//
// Put it first in the controller's steps. Never rename a finalizer: objects carrying
// the old name would never be released.
func Finalizer[T client.Object](name, finalizer string, cleanup func(ctx context.Context, s *State[T]) error) Step[T] {
	return finalizerStep[T]{name: name, finalizer: finalizer, cleanup: cleanup}
}

func (f finalizerStep[T]) Name() string { return f.name }

func (f finalizerStep[T]) Reconcile(ctx context.Context, s *State[T]) error {
	obj := s.Object
	if obj.GetDeletionTimestamp().IsZero() {
		if controllerutil.ContainsFinalizer(obj, f.finalizer) {
			return nil
		}
		return f.patchFinalizers(ctx, s, func(o T) { controllerutil.AddFinalizer(o, f.finalizer) })
	}
	if !controllerutil.ContainsFinalizer(obj, f.finalizer) {
		// Already released (or never guarded): nothing to do, nothing to write.
		s.mu.Lock()
		s.deleted = true
		s.mu.Unlock()
		return errHalt
	}
	if f.cleanup != nil {
		if err := f.cleanup(ctx, s); err != nil {
			return err
		}
	}
	if err := f.patchFinalizers(ctx, s, func(o T) { controllerutil.RemoveFinalizer(o, f.finalizer) }); err != nil {
		if !apierrors.IsNotFound(err) {
			return err
		}
		s.Object.SetFinalizers(nil)
	}
	s.mu.Lock()
	s.deleted = true
	s.mu.Unlock()
	return errHalt
}

// patchFinalizers patches metadata.finalizers only, on a copy of the primary, and
// copies the new finalizers and resourceVersion back (so status fields already set
// by earlier steps are kept).
func (f finalizerStep[T]) patchFinalizers(ctx context.Context, s *State[T], mutate func(T)) error {
	base := s.Object.DeepCopyObject().(T)
	work := s.Object.DeepCopyObject().(T)
	mutate(work)
	if err := s.Client.Patch(ctx, work, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	s.Object.SetFinalizers(work.GetFinalizers())
	s.Object.SetResourceVersion(work.GetResourceVersion())
	return nil
}
