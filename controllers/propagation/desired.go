package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/consent"
	"github.com/courier-operator/courier/internal/copies"
	"github.com/courier-operator/courier/internal/firstn"
	"github.com/courier-operator/courier/internal/nsscope"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// targeting returns the namespaces one source is copied into. Implementations
// record facts (consent refused...) through the State's NotReady.
type targeting func(ctx context.Context, src *unstructured.Unstructured) ([]string, error)

// clusterTargeting targets every namespace the ClusterPropagation's targets select,
// except the source's own namespace and namespaces outside scope (recorded as a
// fact: the propagation asks for more than this install may do). Namespaces come
// from the manager's cache.
func clusterTargeting(c client.Reader, p *v1alpha1.ClusterPropagation, global []string, scope nsscope.Scope,
	notReady func(reason, format string, args ...any)) targeting {
	var names []string
	var loaded bool
	return func(ctx context.Context, src *unstructured.Unstructured) ([]string, error) {
		if !loaded {
			m, err := newTargetMatcher(p.Spec.Targets, global)
			if err != nil {
				notReady(ReasonInvalidSpec, "targets.namespaceSelector: %v", err)
				loaded = true
				return nil, nil
			}
			var nsList corev1.NamespaceList
			if err := c.List(ctx, &nsList); err != nil {
				return nil, fmt.Errorf("listing namespaces: %w", err)
			}
			var outside []string
			for i := range nsList.Items {
				switch name := nsList.Items[i].Name; {
				case !m.matches(&nsList.Items[i]):
				case !scope.Contains(name):
					outside = append(outside, name)
				default:
					names = append(names, name)
				}
			}
			if len(outside) > 0 {
				slices.Sort(outside)
				notReady(ReasonOutsideScope, "targets outside the namespaces this Courier is installed for (%s) get no copy (%d): %s",
					scope, len(outside), firstn.Join(outside, 5, ", "))
			}
			loaded = true
		}
		out := make([]string, 0, len(names))
		for _, n := range names {
			if n != src.GetNamespace() {
				out = append(out, n)
			}
		}
		return out, nil
	}
}

// pullTargeting targets the Propagation's own namespace, if the source's owner
// consented to share with it. A refused source's copy is marked withdrawn, so it is
// deleted even under deletionPolicy Orphan: withdrawing consent must remove the data.
func pullTargeting(c client.Reader, p *v1alpha1.Propagation, global []string, withdrawn map[types.NamespacedName]bool,
	notReady func(reason, format string, args ...any)) targeting {
	return func(ctx context.Context, src *unstructured.Unstructured) ([]string, error) {
		if src.GetNamespace() == p.Namespace {
			notReady(ReasonSameNamespace, "source %s %s/%s is in the Propagation's own namespace; a source's namespace is never a target",
				src.GetKind(), src.GetNamespace(), src.GetName())
			return nil, nil
		}
		var ns corev1.Namespace
		if err := c.Get(ctx, types.NamespacedName{Name: p.Namespace}, &ns); err != nil {
			return nil, fmt.Errorf("reading namespace %s: %w", p.Namespace, err)
		}
		switch refused, why := pullRefusal(src.GetAnnotations(), &ns, global); refused {
		case refusedConsent:
			notReady(ReasonNotShared, "source %s %s/%s is not shared with namespace %s: %s",
				src.GetKind(), src.GetNamespace(), src.GetName(), ns.Name, why)
			withdrawn[types.NamespacedName{Namespace: p.Namespace, Name: CopyName(p.Spec.Template, src.GetName())}] = true
			return nil, nil
		case refusedExcluded:
			notReady(ReasonNotShared, "namespace %s is excluded from propagation by the operator's configuration", ns.Name)
			return nil, nil
		}
		return []string{p.Namespace}, nil
	}
}

// Why a pull is refused (pullRefusal).
const (
	refusedNone = iota
	// refusedConsent: the source's owner did not consent (its copy is withdrawn).
	refusedConsent
	// refusedExcluded: the manager's --excluded-namespaces exclude the namespace.
	refusedExcluded
)

// pullRefusal decides whether a source with these annotations may be pulled into
// ns, and says why not: the rule of pullTargeting and of WhyNotPulled.
func pullRefusal(annotations map[string]string, ns *corev1.Namespace, global []string) (int, string) {
	if ok, why := consent.Check(annotations, ns.Name, ns.Labels); !ok {
		return refusedConsent, why
	}
	if m := (targetMatcher{global: global, include: []v1alpha1.NamespacePattern{"*"}}); !m.matches(ns) {
		return refusedExcluded, m.mismatch(ns)
	}
	return refusedNone, ""
}

// CopyName is the name of the copy of the source named source: template.name
// renames it (allowed with one source only), otherwise it keeps its name. The
// copy builder's own rule (copies.CopyName) decides.
func CopyName(template *v1alpha1.CopyTemplate, source string) string {
	var name string
	if template != nil {
		name = template.Name
	}
	return copies.CopyName(name, "", "", source)
}

// buildCopies builds the copy of every source in every target namespace.
func buildCopies(ctx context.Context, v view, sources []*unstructured.Unstructured, targets targeting) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	t := copies.Template{OwnerLabel: v.ownerLabel, OwnerName: v.ownerName}
	if tp := v.template; tp != nil {
		t.Name = tp.Name
		t.Labels = stringMap(tp.Labels)
		t.Annotations = stringMap(tp.Annotations)
		t.IncludeKeys = toStrings(tp.IncludeKeys)
		t.ExcludeKeys = toStrings(tp.ExcludeKeys)
	}
	for _, src := range sources {
		namespaces, err := targets(ctx, src)
		if err != nil {
			return nil, err
		}
		for _, ns := range namespaces {
			t.Namespace = ns
			c, err := copies.Build(src, t)
			if te := (*copies.TemplateError)(nil); errors.As(err, &te) {
				// The template cannot copy this source (an invalid copy name): nothing
				// is written, the copies there are stay, until the spec changes.
				return nil, reconciler.Terminal(te.Reason, "the copy of %s %s/%s: %s", src.GetKind(), src.GetNamespace(), src.GetName(), te.Message)
			}
			if err != nil {
				return nil, err // refusals were filtered by resolveSources
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func stringMap[V ~string](m map[string]V) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func toStrings[V ~string](s []V) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}
