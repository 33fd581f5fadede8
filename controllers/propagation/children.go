package propagation

import (
	"context"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/copy"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// copyPolicy carries the per-reconcile decisions a ChildSet asks about.
type copyPolicy struct {
	v view
	// withdrawn copies are deleted whatever the deletion policy (consent withdrawn).
	withdrawn map[types.NamespacedName]bool
	// parallelism bounds concurrent copy writes (0: the DSL's default).
	parallelism int
	// listLive lists the actual copies from the API server instead of the copy
	// cache. Cleanup before the finalizer goes must see every copy: a cache that is
	// stale (its watch backing off after an API-server restart, say) would hide
	// copies made since, and they would be orphaned for good.
	listLive bool
}

func (p copyPolicy) onConflict(live client.Object) reconciler.ConflictAction {
	// Another propagation's copy is never taken over, whatever the policy: two
	// propagations fighting over one object would loop forever.
	if copy.IsManagedCopy(live.GetLabels()) {
		return reconciler.ConflictSkip
	}
	switch p.v.conflictPolicy {
	case v1alpha1.ConflictAdopt:
		return reconciler.ConflictAdopt
	case v1alpha1.ConflictOverwrite:
		return reconciler.ConflictOverwrite
	default:
		return reconciler.ConflictSkip
	}
}

func (p copyPolicy) prune(live client.Object) reconciler.PruneAction {
	if p.withdrawn[client.ObjectKeyFromObject(live)] {
		return reconciler.PruneDelete
	}
	if p.v.deletionPolicy == v1alpha1.DeletionOrphan {
		return reconciler.PruneOrphan
	}
	return reconciler.PruneDelete
}

// stepName is the ChildSet name (and State.Children key) for copies of gvk.
func stepName(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return "copies/" + gvk.Kind
	}
	return "copies/" + gvk.Kind + "." + gvk.Group
}

// syncKind keeps the copies of one kind in line with desired (all of that kind) and
// returns the ChildSet's report. Secrets and ConfigMaps use typed children listed
// from the manager's label-selected cache; other kinds are unstructured and listed
// from the API server (label-selected), so no cache of them is ever built.
func syncKind[T reconciler.Object](ctx context.Context, s *reconciler.State[T], gvk schema.GroupVersionKind,
	desired []*unstructured.Unstructured, p copyPolicy) (reconciler.ChildReport, error) {
	name := stepName(gvk)
	direct := func(s *reconciler.State[T]) client.Reader { return s.Reader }
	var cached func(s *reconciler.State[T]) client.Reader // nil: the ChildSet's default, the copy cache
	if p.listLive {
		cached = direct
	}
	var err error
	switch {
	case isBuiltinKind(gvk) && gvk.Kind == "Secret":
		err = childSet[T](p, name, func() client.ObjectList { return &corev1.SecretList{} }, typed[*corev1.Secret](desired, func() *corev1.Secret { return &corev1.Secret{} }), cached, exact[*corev1.Secret]).Reconcile(ctx, s)
	case isBuiltinKind(gvk) && gvk.Kind == "ConfigMap":
		err = childSet[T](p, name, func() client.ObjectList { return &corev1.ConfigMapList{} }, typed[*corev1.ConfigMap](desired, func() *corev1.ConfigMap { return &corev1.ConfigMap{} }), cached, exact[*corev1.ConfigMap]).Reconcile(ctx, s)
	default:
		newList := func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			return l
		}
		// Other kinds stay supersets of their desired state (no Exact): the API server
		// and admission webhooks may add fields to arbitrary kinds on every write,
		// which an exact compare would fight forever.
		err = childSet(p, name, newList, func() ([]*unstructured.Unstructured, error) { return desired, nil }, direct, nil).Reconcile(ctx, s)
	}
	return s.Children(name), err
}

// exact is ChildSet.Exact for Secret and ConfigMap copies: a copy carries no data
// key, type, label or annotation that its source (after the template) does not, so
// a key added to a copy by hand is removed (see reconciler.DefaultExact for what is
// compared).
func exact[C client.Object](desired, live C) bool { return reconciler.DefaultExact(desired, live) }

// childSet declares the ChildSet for one kind of copy; exact may be nil.
func childSet[T reconciler.Object, C client.Object](p copyPolicy, name string, newList func() client.ObjectList,
	desired func() ([]C, error), lister func(*reconciler.State[T]) client.Reader, exact func(desired, live C) bool) reconciler.ChildSet[T, C] {
	return reconciler.ChildSet[T, C]{
		Name:       name,
		FieldOwner: v1alpha1.FieldOwner,
		NewList:    newList,
		Labels:     func(T) map[string]string { return p.v.ownership() },
		Namespace:  func(T) string { return p.v.namespace },
		Desired:    func(context.Context, *reconciler.State[T]) ([]C, error) { return desired() },
		OnConflict: func(_ context.Context, _ *reconciler.State[T], _ C, live C) reconciler.ConflictAction {
			return p.onConflict(live)
		},
		Prune:       func(live C) reconciler.PruneAction { return p.prune(live) },
		Parallelism: p.parallelism,
		Lister:      lister,
		// The copy cache strips managedFields: without the hash a key removed from
		// the source would never be removed from its copies.
		HashAnnotation: v1alpha1.AnnotationCopyHash,
		// Server-side apply cannot remove a field another manager added: copies
		// that must stay byte-identical are repaired with a full-object Update (and
		// created with one POST, no read before it).
		Exact: exact,
	}
}

// typed converts unstructured copies to a typed child type.
func typed[C client.Object](desired []*unstructured.Unstructured, newObj func() C) func() ([]C, error) {
	return func() ([]C, error) {
		out := make([]C, 0, len(desired))
		for _, u := range desired {
			c := newObj()
			if err := fromUnstructured(u.Object, c); err != nil {
				return nil, fmt.Errorf("converting copy %s/%s: %w", u.GetNamespace(), u.GetName(), err)
			}
			out = append(out, c)
		}
		return out, nil
	}
}

// fromUnstructured is runtime.DefaultUnstructuredConverter.FromUnstructured with
// the base64 maps of Secrets (data) and ConfigMaps (binaryData) decoded directly:
// the converter turns each []byte value into JSON and back, which for a fan-out of
// an 8 KiB Secret to a thousand namespaces cost more CPU than the writes.
func fromUnstructured(u map[string]any, obj client.Object) error {
	field := ""
	switch obj.(type) {
	case *corev1.Secret:
		field = "data"
	case *corev1.ConfigMap:
		field = "binaryData"
	}
	encoded, isMap := u[field].(map[string]any)
	if field == "" || !isMap {
		return runtime.DefaultUnstructuredConverter.FromUnstructured(u, obj)
	}
	decoded, err := decodeBase64Map(encoded)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	rest := make(map[string]any, len(u))
	for k, v := range u {
		if k != field {
			rest[k] = v
		}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(rest, obj); err != nil {
		return err
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		o.Data = decoded
	case *corev1.ConfigMap:
		o.BinaryData = decoded
	}
	return nil
}

// decodeBase64Map decodes the values of an unstructured map of base64 strings.
func decodeBase64Map(m map[string]any) (map[string][]byte, error) {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("key %q: %T is not a base64 string", k, v)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}
