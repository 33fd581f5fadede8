package reconciler

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// run is one pass of a ChildSet: list the owned children, diff them against the
// desired ones, sync and prune in parallel, report.
func (c *ChildSetStep[T, C]) run(ctx context.Context, s *State[T],
	desiredFn func(context.Context, *State[T]) ([]C, error), reader client.Reader) error {
	name := c.cs.Name
	labels := c.cs.Labels(s.Object)
	if len(labels) == 0 {
		return Terminal("InvalidChildSet", "child set %q has no ownership labels", name)
	}
	desired, err := desiredFn(ctx, s)
	if err != nil {
		return err
	}
	kinds, err := c.kinds(ctx, s)
	if err != nil {
		return err
	}
	live, err := c.list(ctx, s, reader, labels, kinds)
	if err != nil {
		return err
	}

	w := &childWork[T, C]{step: c, s: s, labels: labels}
	seen := make(map[childRef]bool, len(desired))
	tasks := make([]func(context.Context) ChildOutcome, 0, len(desired)+len(live))
	for _, d := range desired {
		if d.GetName() == "" {
			return Terminal("InvalidChild", "child set %q: a desired child has no name (generateName is not supported)", name)
		}
		gvk, err := apiutil.GVKForObject(d, s.scheme)
		if err != nil {
			return Terminal("InvalidChild", "child set %q: %v", name, err)
		}
		if c.cs.Kinds != nil && !containsKind(kinds, gvk) {
			return Terminal("InvalidChild", "child set %q: desired child %s of kind %s is not among its Kinds", name, client.ObjectKeyFromObject(d), gvk.Kind)
		}
		ref := childRef{set: name, gvk: gvk, key: client.ObjectKeyFromObject(d)}
		if seen[ref] {
			return Terminal("DuplicateChild", "child set %q: child %s is desired twice", name, ref.key)
		}
		seen[ref] = true
		l, has := live[ref]
		tasks = append(tasks, func(ctx context.Context) ChildOutcome {
			// Stamped here, in parallel, not before the first write: for a
			// thousand children that CPU work overlaps the writes.
			d := stampLabels(d, labels)
			if c.cs.HashAnnotation != "" {
				var err error
				if d, err = stampHash(d, gvk, c.cs.HashAnnotation); err != nil {
					return failed(ref, fmt.Errorf("hashing the desired state: %w", err))
				}
			}
			return w.sync(ctx, ref, d, l, has)
		})
	}
	for ref, l := range live {
		if !seen[ref] {
			tasks = append(tasks, func(ctx context.Context) ChildOutcome { return w.prune(ctx, ref, l) })
		}
	}

	outcomes := runBounded(ctx, c.parallelism(), tasks)
	sortOutcomes(outcomes)
	report := ChildReport{Outcomes: outcomes, Desired: len(desired)}
	s.setValue(c, report)
	return c.judge(s, report)
}

// kinds returns the kinds to list for a ChildSet of several kinds (Kinds); nil for
// one of a single kind (NewList).
func (c *ChildSetStep[T, C]) kinds(ctx context.Context, s *State[T]) ([]schema.GroupVersionKind, error) {
	if c.cs.Kinds == nil {
		return nil, nil
	}
	kinds, err := c.cs.Kinds(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("kinds of %s: %w", c.cs.Name, err)
	}
	return kinds, nil
}

// list returns the owned children, by kind and key: in the primary's Namespace,
// or in each of Namespaces, or across all namespaces.
func (c *ChildSetStep[T, C]) list(ctx context.Context, s *State[T], reader client.Reader,
	labels map[string]string, kinds []schema.GroupVersionKind) (map[childRef]C, error) {
	namespaces := []string{""}
	if len(c.cs.Namespaces) > 0 {
		namespaces = c.cs.Namespaces
	}
	if c.cs.Namespace != nil {
		if ns := c.cs.Namespace(s.Object); ns != "" {
			namespaces = []string{ns}
		}
	}
	type namespacedList struct {
		list client.ObjectList
		ns   string
	}
	var lists []namespacedList
	for _, ns := range namespaces {
		if c.cs.Kinds == nil {
			lists = append(lists, namespacedList{c.cs.NewList(), ns})
		}
		for _, gvk := range kinds {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			lists = append(lists, namespacedList{l, ns})
		}
	}
	live := map[childRef]C{}
	for _, nl := range lists {
		list := nl.list
		opts := []client.ListOption{client.MatchingLabels(labels)}
		if nl.ns != "" {
			opts = append(opts, client.InNamespace(nl.ns))
		}
		if err := reader.List(ctx, list, opts...); err != nil {
			return nil, fmt.Errorf("listing children of %s: %w", c.cs.Name, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, fmt.Errorf("listing children of %s: %w", c.cs.Name, err)
		}
		for _, it := range items {
			ci, ok := it.(C)
			if !ok {
				return nil, Terminal("InvalidChildSet", "child set %q: list item %T is not the child type", c.cs.Name, it)
			}
			gvk, err := apiutil.GVKForObject(ci, s.scheme)
			if err != nil {
				return nil, Terminal("InvalidChildSet", "child set %q: %v", c.cs.Name, err)
			}
			live[childRef{set: c.cs.Name, gvk: gvk, key: client.ObjectKeyFromObject(ci)}] = ci
		}
	}
	return live, nil
}

// judge turns a report into facts and the step's result: conflicts and permanent
// failures make the primary not ready; retryable failures make the step fail, after
// every child was tried.
func (c *ChildSetStep[T, C]) judge(s *State[T], report ChildReport) error {
	var retry, permanent []ChildOutcome
	for _, o := range report.Failed() {
		if retryable(o.Err) {
			retry = append(retry, o)
		} else {
			permanent = append(permanent, o)
		}
	}
	if conflicts := report.Conflicts(); len(conflicts) > 0 {
		s.NotReady(ReasonChildConflict, "%d of %d children conflict with objects not managed by %s: %s",
			len(conflicts), report.Desired, c.fieldOwner(s), summarize(conflicts))
	}
	if len(permanent) > 0 {
		s.NotReady(ReasonChildFailed, "%d children failed: %s", len(permanent), summarize(permanent))
	}
	if len(retry) > 0 {
		return fmt.Errorf("%d of %d children of %s failed: %s", len(retry), len(report.Outcomes), c.cs.Name, summarize(retry))
	}
	if contested := report.Contested(); len(contested) > 0 {
		after := contested[0].RetryAfter
		for _, o := range contested[1:] {
			after = min(after, o.RetryAfter)
		}
		return Waiting(after, ReasonChildContested, "%d of %d children are rewritten by other writers: %s", len(contested), report.Desired, summarize(contested))
	}
	return nil
}

func containsKind(kinds []schema.GroupVersionKind, gvk schema.GroupVersionKind) bool {
	for _, k := range kinds {
		if k == gvk {
			return true
		}
	}
	return false
}

// runBounded runs tasks with at most n at a time and returns their outcomes in task order.
func runBounded(ctx context.Context, n int, tasks []func(context.Context) ChildOutcome) []ChildOutcome {
	out := make([]ChildOutcome, len(tasks))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, t := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = t(ctx)
		}()
	}
	wg.Wait()
	return out
}
