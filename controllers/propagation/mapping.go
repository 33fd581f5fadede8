package propagation

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/copies"
	"github.com/courier-operator/courier/internal/nsscope"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// sourceIndex indexes propagations by "<group>/<version>/<kind>/<namespace>" of each
// source, so a source event looks up only the propagations reading that namespace.
const sourceIndex = "courier.dev/source-key"

func sourceKey(gvk schema.GroupVersionKind, namespace string) string {
	return gvk.Group + "/" + gvk.Version + "/" + gvk.Kind + "/" + namespace
}

func sourceKeys(refs []v1alpha1.SourceReference) []string {
	keys := make([]string, 0, len(refs))
	for _, r := range refs {
		keys = append(keys, sourceKey(gvkOf(r), r.Namespace))
	}
	return keys
}

// refersTo reports whether refs may select obj (of kind gvk): by name, or through a
// selector over its namespace. Selector references map every event in the namespace
// (not only matching ones) so an object relabelled out of the selector is noticed.
func refersTo(refs []v1alpha1.SourceReference, gvk schema.GroupVersionKind, obj client.Object) bool {
	for _, r := range refs {
		if gvkOf(r) == gvk && r.Namespace == obj.GetNamespace() && (r.Selector != nil || r.Name == obj.GetName()) {
			return true
		}
	}
	return false
}

// mapper holds the map functions that turn events into the few reconciles that care.
type mapper struct {
	c      client.Reader
	global []string
	// scope: the cache holds nothing of namespaces outside it, so nothing is
	// listed there (the cache would refuse).
	scope nsscope.Scope
}

// forSource maps a source event of kind gvk to the propagations of variant v that
// read it, looked up by the source index.
func forSource[T reconciler.Object](m mapper, v variant[T], gvk schema.GroupVersionKind) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		if copies.IsManagedCopy(obj.GetLabels()) {
			return nil // a copy is never a source; copy events come from the copy watch
		}
		list := v.NewList()
		if err := m.c.List(ctx, list, client.MatchingFields{sourceIndex: sourceKey(gvk, obj.GetNamespace())}); err != nil {
			m.listFailed(ctx, err, v.controller, "source", obj)
			return nil
		}
		var out []reconcile.Request
		for _, p := range v.Items(list) {
			if refersTo(v.view(p).sources, gvk, obj) {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
			}
		}
		return out
	}
}

// listFailed logs a lookup that failed: the event is lost for the propagations it
// concerned (a cache read fails only while the manager stops), which must be seen.
func (m mapper) listFailed(ctx context.Context, err error, controller, what string, obj client.Object) {
	logf.FromContext(ctx).Error(err, "cannot map an event to the propagations it concerns",
		"controller", controller, "event", what, "object", client.ObjectKeyFromObject(obj).String())
}

// withCopies adds the owner of a copy (by its label) to a source mapping; used for
// kinds other than Secret and ConfigMap, whose one metadata watch sees both.
func withCopies(source handler.MapFunc, labelKey string, namespaced bool) handler.MapFunc {
	owner := reconciler.LabelMapper(labelKey, namespaced)
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		if copies.IsManagedCopy(obj.GetLabels()) {
			return owner(ctx, obj)
		}
		return source(ctx, obj)
	}
}

// clusterForNamespace maps a namespace created, relabelled or deleted to the
// ClusterPropagations it is (or stops being) a target of: those whose targets match
// it now, plus the owners of copies it holds, plus those with kinds other than
// Secret/ConfigMap (whose copies are not cached and so cannot be looked up here).
func (m mapper) clusterForNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil
	}
	names := map[string]bool{}
	var list v1alpha1.ClusterPropagationList
	if err := m.c.List(ctx, &list); err != nil {
		m.listFailed(ctx, err, ClusterControllerName, "namespace", obj)
		return nil
	}
	for i := range list.Items {
		p := &list.Items[i]
		if hasExtraKinds(p.Spec.Sources) {
			names[p.Name] = true
			continue
		}
		if tm, err := newTargetMatcher(p.Spec.Targets, m.global); err == nil && tm.matches(ns) {
			names[p.Name] = true
		}
	}
	// Outside scope there is no copy to look up: the propagations it matches are
	// enqueued above, to say so.
	var lists []client.ObjectList
	if m.scope.Contains(ns.Name) {
		lists = []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}}
	}
	for _, l := range lists {
		if err := m.c.List(ctx, l, client.InNamespace(ns.Name), client.HasLabels{v1alpha1.LabelClusterPropagation},
			client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}); err != nil {
			m.listFailed(ctx, err, ClusterControllerName, "namespace", obj)
			continue
		}
		for _, o := range items(l) {
			names[o.GetLabels()[v1alpha1.LabelClusterPropagation]] = true
		}
	}
	out := make([]reconcile.Request, 0, len(names))
	for n := range names {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: n}})
	}
	return out
}

// pullForNamespace maps a namespace event to the Propagations inside it: consent by
// namespace selector depends on the namespace's labels.
func (m mapper) pullForNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	if !m.scope.Contains(obj.GetName()) {
		return nil // no Propagation outside scope is served (nor cached)
	}
	var list v1alpha1.PropagationList
	if err := m.c.List(ctx, &list, client.InNamespace(obj.GetName())); err != nil {
		m.listFailed(ctx, err, PullControllerName, "namespace", obj)
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

func hasExtraKinds(refs []v1alpha1.SourceReference) bool {
	for _, r := range refs {
		if !isBuiltinKind(gvkOf(r)) {
			return true
		}
	}
	return false
}

func items(l client.ObjectList) []client.Object {
	switch t := l.(type) {
	case *corev1.SecretList:
		out := make([]client.Object, len(t.Items))
		for i := range t.Items {
			out[i] = &t.Items[i]
		}
		return out
	case *corev1.ConfigMapList:
		out := make([]client.Object, len(t.Items))
		for i := range t.Items {
			out[i] = &t.Items[i]
		}
		return out
	}
	return nil
}
