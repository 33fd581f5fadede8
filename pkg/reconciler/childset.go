package reconciler

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultParallelism is the number of concurrent child writes of a ChildSet when
// Parallelism is not set.
const DefaultParallelism = 16

// ChildSet declares a set of children (any GVK, typed or *unstructured.Unstructured,
// any namespace) kept in line with the primary. Declare it once, with the
// controller, and use its Step:
//
//	configMaps := reconciler.ChildSet[*Widget, *corev1.ConfigMap]{Name: "configmaps", ...}.Step()
//	reconciler.For("widget", newWidget).
//		Steps(reconciler.Finalizer("finalizer", "example.com/cleanup", configMaps.Release), configMaps).
//		Status(func(ctx context.Context, s *reconciler.State[*Widget]) {
//			r, _ := configMaps.Report(s)
//			s.Object.Status.Synced = r.Synced()
//		})
//
// Each reconcile lists the actual children by Labels (and Namespace), computes the
// desired ones, and for each desired child:
//   - not listed → read through the uncached Reader, then server-side apply
//     (create) if absent; with Exact, ONE Create (POST) instead, and the read only
//     when the POST finds the name taken (AlreadyExists);
//   - owned and matching (and, with Exact, exact) → nothing;
//   - owned and different → server-side apply, or one full-object Update with Exact;
//   - present but not owned → OnConflict.
//
// Owned children no longer desired are pruned. Writes run in parallel
// (Parallelism). A steady state makes no write.
//
// Conflicts are reported as a NotReady fact (ReasonChildConflict), children failing
// with a non-retryable error (invalid, bad request) as NotReady (ReasonChildFailed);
// if any child failed with a retryable error the step returns one aggregated
// transient error after every child was tried. The report is available to later
// steps and to the Status hook through ChildSetStep.Report.
//
// The declaration is checked when the controller is built (Builder.BuildWith), not
// on every reconcile.
type ChildSet[T client.Object, C client.Object] struct {
	// Name of the step (metrics, logs).
	Name string
	// FieldOwner is the field manager of every write (server-side apply, and the
	// Create and Update of Exact), e.g. "courier". Defaults to the controller name.
	FieldOwner string
	// NewList returns an empty list of children, e.g. &corev1.SecretList{} or an
	// UnstructuredList with its GVK set. Exactly one of NewList and Kinds is set.
	NewList func() client.ObjectList
	// Kinds returns, for *unstructured.Unstructured children of several kinds, the
	// kinds to list in this reconcile (each desired child's kind must be one of
	// them). Exactly one of NewList and Kinds is set.
	Kinds func(ctx context.Context, s *State[T]) ([]schema.GroupVersionKind, error)
	// Labels are the ownership labels: stamped on every desired child and used as
	// the selector to list actual children. Required, must not be empty.
	Labels func(parent T) map[string]string
	// Namespace to list children in; nil or "" lists all namespaces (or
	// Namespaces).
	Namespace func(parent T) string
	// Namespaces limits where children are listed when Namespace names none: each
	// of them is listed instead of all namespaces at once, for a controller whose
	// RBAC reaches only those (a namespaced install). Empty: all namespaces.
	Namespaces []string
	// Desired returns the desired children, with deterministic names (never
	// generateName). Required.
	//
	// OnConflict and Prune are called from up to Parallelism goroutines at once: they
	// must not modify the State (record facts after the step instead, from
	// ChildSetStep.Report).
	Desired func(ctx context.Context, s *State[T]) ([]C, error)
	// OnConflict is asked when an object with a desired name exists but lacks the
	// ownership labels. It returns the action and, for ConflictSkip, what the
	// report's message says of the object ("" for the default "… exists and is not
	// managed by <FieldOwner>"). Optional; default ConflictSkip.
	OnConflict func(ctx context.Context, s *State[T], desired C, live C) (ConflictAction, string)
	// Prune says what to do with owned children no longer desired. Optional; default
	// PruneDelete.
	Prune func(ctx context.Context, s *State[T], live C) PruneAction
	// Parallelism bounds concurrent writes (default DefaultParallelism).
	Parallelism int
	// Lister returns the reader used to list actual children. Optional; default
	// s.Client (the manager's cache). Release always lists through s.Reader.
	Lister func(s *State[T]) client.Reader
	// HashAnnotation, if set, is an annotation key on which every desired child
	// carries a hash of its own desired state. Any change of the desired state,
	// including fields removed from it, is then noticed without managedFields. Set it
	// when children are listed from a cache that strips managedFields
	// (cache.TransformStripManagedFields): otherwise a field dropped from the desired
	// state (e.g. a key removed from a ConfigMap's data) is never removed from the
	// live child.
	HashAnnotation string
	// Exact makes owned children exact copies of their desired state, not
	// supersets: a child must carry nothing the desired object does not want, apart
	// from metadata other than labels and annotations, and label and annotation keys
	// in the Kubernetes-reserved domains (kubernetes.io, k8s.io) that desired does
	// not set. Server-side apply only removes fields its own field manager set, so a
	// field another manager added (kubectl edit, a second controller) would
	// otherwise stay forever. An owned child that is not exact is repaired with ONE
	// full-object Update (PUT with the live resourceVersion, field manager
	// FieldOwner); a conflict (stale cache, concurrent writer) is a transient
	// failure retried by the next reconcile.
	//
	// With Exact a missing child is created with ONE Create (POST of the desired
	// object, field manager FieldOwner) instead of a read and a server-side apply: a
	// POST never overwrites, so the read happens only when the POST fails with
	// AlreadyExists, and the object found is then handled as without Exact (ours
	// but not yet in the list → repaired; not ours → OnConflict). Adoptions and
	// overwrites (OnConflict) still use server-side apply.
	//
	// The Update keeps live's lifecycle metadata (uid, resourceVersion,
	// creationTimestamp, finalizers, ownerReferences, managedFields, deletion
	// fields) and status. Only use Exact for kinds the API server does not default
	// or mutate on write (or whose desired state already carries those defaults,
	// e.g. a copy of a stored object), unless HashAnnotation is set too (see
	// childMemos): a field the server re-adds on every write would make every
	// reconcile write.
	Exact bool
	// ContentDigest, with Exact, is the annotation key under which the cache the
	// children are listed from keeps the digest of each child's content instead of
	// the content (cache.ByObject{Transform: DigestContent(key)}): the cache then
	// holds metadata only, whatever the children's size. A listed child carrying the
	// key is compared with the digest of its desired state; one read live (a child
	// not yet listed, a retried replace) is compared whole. Use a key nothing else
	// sets: it never reaches the API server.
	ContentDigest string
}

// Step returns the ChildSet as a step, the handle its controller keeps: add it to
// the Builder's steps, use its Release as a Finalizer's cleanup, read its Report in
// later steps and the Status hook. (Go forbids a field and a method both named
// Name, hence the separate handle.)
func (c ChildSet[T, C]) Step() *ChildSetStep[T, C] { return &ChildSetStep[T, C]{cs: c} }

// ChildSetStep is a declared ChildSet as a step (see ChildSet).
type ChildSetStep[T client.Object, C client.Object] struct{ cs ChildSet[T, C] }

// Name is the ChildSet's name.
func (c *ChildSetStep[T, C]) Name() string { return c.cs.Name }

// Reconcile keeps the children in line with the primary (see ChildSet).
func (c *ChildSetStep[T, C]) Reconcile(ctx context.Context, s *State[T]) error {
	reader := client.Reader(s.Client)
	if c.cs.Lister != nil {
		reader = c.cs.Lister(s)
	}
	return c.run(ctx, s, c.cs.Desired, reader)
}

// Release prunes every owned child as if none were desired, honouring Prune (delete
// or orphan). Use it as the cleanup of a Finalizer so children are removed before
// the primary is released. It lists the children through s.Reader, the API server:
// a cache may be stale (its watch backing off after an API-server restart, say),
// and a child it hides would never be cleaned up.
func (c *ChildSetStep[T, C]) Release(ctx context.Context, s *State[T]) error {
	return c.run(ctx, s, func(context.Context, *State[T]) ([]C, error) { return nil, nil }, s.Reader)
}

// Report returns what this ChildSet did in the current reconcile, and false if it
// did not run (an earlier step failed).
func (c *ChildSetStep[T, C]) Report(s *State[T]) (ChildReport, bool) {
	v, ok := s.value(c)
	if !ok {
		return ChildReport{}, false
	}
	return v.(ChildReport), true
}

// validate checks the declaration once, when the controller is built.
func (c *ChildSetStep[T, C]) validate() error {
	cs := c.cs
	var zero C
	_, unstructuredChildren := any(zero).(*unstructured.Unstructured)
	switch {
	case cs.Name == "":
		return errors.New("a ChildSet needs a Name")
	case cs.Labels == nil || cs.Desired == nil:
		return fmt.Errorf("child set %q needs Labels and Desired", cs.Name)
	case (cs.NewList == nil) == (cs.Kinds == nil):
		return fmt.Errorf("child set %q needs exactly one of NewList and Kinds", cs.Name)
	case cs.Kinds != nil && !unstructuredChildren:
		return fmt.Errorf("child set %q: Kinds needs *unstructured.Unstructured children, not %T", cs.Name, zero)
	case cs.Parallelism < 0:
		return fmt.Errorf("child set %q: negative Parallelism", cs.Name)
	case cs.ContentDigest != "" && !cs.Exact:
		// A superset compare cannot be made on digests: a field the server
		// defaults changes the digest of the live child but not of the desired one.
		return fmt.Errorf("child set %q: ContentDigest needs Exact", cs.Name)
	case cs.ContentDigest != "" && cs.ContentDigest == cs.HashAnnotation:
		return fmt.Errorf("child set %q: ContentDigest and HashAnnotation must be different keys", cs.Name)
	}
	return nil
}

func (c *ChildSetStep[T, C]) parallelism() int {
	if c.cs.Parallelism > 0 {
		return c.cs.Parallelism
	}
	return DefaultParallelism
}

func (c *ChildSetStep[T, C]) fieldOwner(s *State[T]) string {
	if c.cs.FieldOwner != "" {
		return c.cs.FieldOwner
	}
	return s.controller
}
