package rollout

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/internal/workloadrefs"
)

// inputsIndex is the field index on cached workloads: one value per input the
// workload consumes, in the workloadrefs form "configmap/<name>" or "secret/<name>".
const inputsIndex = "courier.dev/rollout-inputs"

// inputs returns the inputs of a workload (its template references plus the extra
// annotation minus the exclude annotation) and the annotation problems, if any.
func (k workloadKind[T]) inputs(obj T) ([]workloadrefs.Reference, error) {
	ann := obj.GetAnnotations()
	return workloadrefs.Collect(&k.template(obj).Spec, ann[AnnotationExtraRefs], ann[AnnotationExcludeRefs])
}

// indexInputs is the field indexer: it lists the inputs of a workload, so an event on
// a ConfigMap or Secret finds its consumers with one indexed cache lookup.
func (k workloadKind[T]) indexInputs(obj client.Object) []string {
	w, ok := obj.(T)
	if !ok {
		return nil
	}
	refs, _ := k.inputs(w)
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

// consumers returns a map function for events on inputs of the given kind: it
// requests a reconcile of every cached workload of this kind, in the input's
// namespace, that consumes the input.
func (k workloadKind[T]) consumers(c client.Reader, input workloadrefs.Kind) func(ctx context.Context, obj client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		list := k.NewList()
		ref := workloadrefs.Ref{Kind: input, Name: obj.GetName()}
		if err := c.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{inputsIndex: ref.String()}); err != nil {
			// A local cache lookup only fails when the index is missing: a wiring bug.
			logf.FromContext(ctx).Error(err, "listing consumers", "kind", k.name, "input", ref.String())
			return nil
		}
		items := k.Items(list)
		out := make([]reconcile.Request, 0, len(items))
		for _, w := range items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(w)})
		}
		return out
	}
}
