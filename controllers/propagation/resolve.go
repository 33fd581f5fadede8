package propagation

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/copies"
	"github.com/courier-operator/courier/internal/nsscope"
)

// Reasons recorded as NotReady facts (and so as Ready's reason and event reason).
const (
	ReasonSourceNotFound = "SourceNotFound"
	ReasonNotShared      = "NotShared"
	ReasonForbidden      = "Forbidden"
	ReasonSameNamespace  = "SameNamespace"
	ReasonInvalidSpec    = "InvalidSpec"
	// ReasonAdmissionPolicyMissing: conflictPolicy Adopt or Overwrite waits for the
	// admission policy that checks propagations' authors (docs/security.md).
	ReasonAdmissionPolicyMissing = "AdmissionPolicyMissing"
	// ReasonOutsideScope: a source or target namespace is outside the namespaces a
	// namespaced install is limited to (--watch-namespaces); it is left alone.
	ReasonOutsideScope = "OutsideWatchedNamespaces"
)

// gvkOf returns the GroupVersionKind a source reference names.
func gvkOf(ref v1alpha1.SourceReference) schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
}

// isBuiltinKind reports whether gvk is a v1 Secret or ConfigMap, the kinds Courier
// handles out of the box (typed, with a label-selected cache for copies).
func isBuiltinKind(gvk schema.GroupVersionKind) bool {
	return gvk.Group == "" && gvk.Version == "v1" && (gvk.Kind == "Secret" || gvk.Kind == "ConfigMap")
}

// resolveSources reads, directly from the API server, the content of every source
// of kind gvk that v references. Sources that do not exist or must never be copied
// are reported through notReady and skipped; any other read error is returned so the
// reconcile retries instead of pruning copies on a transient failure.
//
// Reading directly (not from a cache) is deliberate: Courier only holds the content
// of objects it manages, and a source is read only when one of its propagations
// reconciles. A source outside scope is not read at all: a namespaced install has
// no right to, and must not try.
func resolveSources(ctx context.Context, r client.Reader, v view, gvk schema.GroupVersionKind, scope nsscope.Scope,
	notReady func(reason, format string, args ...any)) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, ref := range v.sources {
		if gvkOf(ref) != gvk {
			continue
		}
		if !scope.Contains(ref.Namespace) {
			notReady(ReasonOutsideScope, "source namespace %s is outside the namespaces this Courier is installed for (%s)",
				ref.Namespace, scope)
			continue
		}
		if ref.Name != "" {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			err := r.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, u)
			switch {
			case apierrors.IsNotFound(err):
				notReady(ReasonSourceNotFound, "source %s %s/%s not found", gvk.Kind, ref.Namespace, ref.Name)
				continue
			case err != nil:
				return nil, fmt.Errorf("reading source %s %s/%s: %w", gvk.Kind, ref.Namespace, ref.Name, err)
			}
			secretType, _, _ := unstructured.NestedString(u.Object, "type")
			if err := copies.Refuse(u.GetAPIVersion(), u.GetKind(), u.GetLabels(), secretType); err != nil {
				var refused *copies.RefusedError
				errors.As(err, &refused)
				notReady(refused.Reason, "source %s %s/%s: %s", gvk.Kind, ref.Namespace, ref.Name, refused.Message)
				continue
			}
			out = append(out, u)
			continue
		}
		sel, err := ref.Selector.AsSelector()
		if err != nil {
			notReady(ReasonInvalidSpec, "source selector in %s: %v", ref.Namespace, err)
			continue
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := r.List(ctx, list, client.InNamespace(ref.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
			return nil, fmt.Errorf("listing sources %s in %s: %w", gvk.Kind, ref.Namespace, err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			secretType, _, _ := unstructured.NestedString(u.Object, "type")
			// A selector naturally matches objects that must never travel (token
			// Secrets, Helm releases, other propagations' copies): they are skipped
			// quietly rather than making the whole propagation not ready.
			if copies.Refuse(u.GetAPIVersion(), u.GetKind(), u.GetLabels(), secretType) != nil {
				continue
			}
			out = append(out, u)
		}
	}
	return out, nil
}
