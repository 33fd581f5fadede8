package propagation

import (
	"context"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/objectkind"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// copySets are the declared children of one variant: a ChildSet for Secret copies and
// one for ConfigMap copies (typed, listed from the manager's label-selected cache,
// exact), and one for copies of every other kind (unstructured, listed from the
// API server by label, so no cache of those kinds is ever built). They act on the
// plan the "plan" step leaves in the State.
type copySets[T reconciler.Object] struct {
	e          *engine
	v          variant[T]
	planned    *reconciler.Key[T, *plan]
	secrets    *reconciler.ChildSetStep[T, *corev1.Secret]
	configMaps *reconciler.ChildSetStep[T, *corev1.ConfigMap]
	others     *reconciler.ChildSetStep[T, *unstructured.Unstructured]
	releases   []func(context.Context, *reconciler.State[T]) error
}

func newCopySets[T reconciler.Object](e *engine, v variant[T]) *copySets[T] {
	c := &copySets[T]{e: e, v: v, planned: reconciler.NewKey[T, *plan]("plan")}
	c.secrets = typedSet(c, secretGVK, objectkind.Of(func(l *corev1.SecretList) []corev1.Secret { return l.Items })).Step()
	c.configMaps = typedSet(c, configMapGVK, objectkind.Of(func(l *corev1.ConfigMapList) []corev1.ConfigMap { return l.Items })).Step()
	c.others = reconciler.ChildSet[T, *unstructured.Unstructured]{
		Name:       "copies/others",
		FieldOwner: v1alpha1.FieldOwner,
		Kinds: func(_ context.Context, s *reconciler.State[T]) ([]schema.GroupVersionKind, error) {
			p, err := c.current(s)
			if err != nil {
				return nil, err
			}
			return p.others, nil
		},
		Labels:     c.labels,
		Namespace:  c.namespace,
		Namespaces: e.opts.Scope.Names(), // a namespaced install may list only there
		Desired: func(_ context.Context, s *reconciler.State[T]) ([]*unstructured.Unstructured, error) {
			p, err := c.current(s)
			if err != nil {
				return nil, err
			}
			var out []*unstructured.Unstructured
			for _, gvk := range p.others {
				out = append(out, p.desired[gvk]...)
			}
			return out, nil
		},
		OnConflict:  onConflict[T, *unstructured.Unstructured](c),
		Prune:       prune[T, *unstructured.Unstructured](c),
		Parallelism: e.opts.ChildParallelism,
		// Not cached: listed from the API server, by label.
		Lister:         func(s *reconciler.State[T]) client.Reader { return s.Reader },
		HashAnnotation: v1alpha1.AnnotationCopyHash,
		// Other kinds stay supersets of their desired state (no Exact): the API
		// server and admission webhooks may add fields to arbitrary kinds on every
		// write, which an exact compare would fight forever.
	}.Step()
	c.releases = []func(context.Context, *reconciler.State[T]) error{c.secrets.Release, c.configMaps.Release, c.others.Release}
	return c
}

// typedSet declares the ChildSet of the copies of one built-in kind, typed C.
func typedSet[T reconciler.Object, C client.Object](c *copySets[T], gvk schema.GroupVersionKind, k objectkind.Kind[C]) reconciler.ChildSet[T, C] {
	return reconciler.ChildSet[T, C]{
		Name:       stepName(gvk),
		FieldOwner: v1alpha1.FieldOwner,
		NewList:    k.NewList,
		Labels:     c.labels,
		Namespace:  c.namespace,
		Namespaces: c.e.opts.Scope.Names(), // a namespaced install may list only there
		Desired: func(_ context.Context, s *reconciler.State[T]) ([]C, error) {
			p, err := c.current(s)
			if err != nil {
				return nil, err
			}
			if err := p.skipped[gvk]; err != nil {
				return nil, err // its sources could not be read: prune nothing
			}
			return typedCopies(p.desired[gvk], k.New)
		},
		OnConflict:  onConflict[T, C](c),
		Prune:       prune[T, C](c),
		Parallelism: c.e.opts.ChildParallelism,
		// The copy cache strips managedFields: without the hash a key removed from
		// the source would never be removed from its copies.
		HashAnnotation: v1alpha1.AnnotationCopyHash,
		// Server-side apply cannot remove a field another manager added: copies
		// that must stay byte-identical are repaired with a full-object Update (and
		// created with one POST, no read before it).
		Exact: true,
		// The copy cache keeps metadata and a digest of the content (CacheByObject).
		ContentDigest: copyDigest,
	}
}

func (c *copySets[T]) labels(p T) map[string]string { return c.v.view(p).ownership() }
func (c *copySets[T]) namespace(p T) string         { return c.v.view(p).namespace }

// current returns the plan of this reconcile (set by the "plan" step, or by
// release); a copy step never acts without one.
func (c *copySets[T]) current(s *reconciler.State[T]) (*plan, error) {
	if p, ok := c.planned.Get(s); ok {
		return p, nil
	}
	return nil, fmt.Errorf("no %s was made in this reconcile", c.planned)
}

// policy is the plan's policy; the hooks that ask for it run only after Desired
// found the plan.
func (c *copySets[T]) policy(s *reconciler.State[T]) copyPolicy {
	p, _ := c.planned.Get(s)
	if p == nil {
		return copyPolicy{}
	}
	return p.policy
}

func onConflict[T reconciler.Object, C client.Object](c *copySets[T]) func(context.Context, *reconciler.State[T], C, C) (reconciler.ConflictAction, string) {
	return func(_ context.Context, s *reconciler.State[T], _ C, live C) (reconciler.ConflictAction, string) {
		return c.policy(s).onConflict(live)
	}
}

func prune[T reconciler.Object, C client.Object](c *copySets[T]) func(context.Context, *reconciler.State[T], C) reconciler.PruneAction {
	return func(_ context.Context, s *reconciler.State[T], live C) reconciler.PruneAction {
		return c.policy(s).prune(live)
	}
}

// stepName is the ChildSet name for copies of gvk.
func stepName(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return "copies/" + gvk.Kind
	}
	return "copies/" + gvk.Kind + "." + gvk.Group
}

// typedCopies converts unstructured copies to a typed child type.
func typedCopies[C client.Object](desired []*unstructured.Unstructured, newObj func() C) ([]C, error) {
	out := make([]C, 0, len(desired))
	// Copies of one source in many namespaces carry the same base64 strings: each
	// is decoded once, and the copies share the bytes (nothing writes into them: a
	// ChildSet sends copies that own their maps).
	shared := map[string][]byte{}
	for _, u := range desired {
		c := newObj()
		if err := fromUnstructured(u.Object, c, shared); err != nil {
			return nil, fmt.Errorf("converting copy %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// fromUnstructured is runtime.DefaultUnstructuredConverter.FromUnstructured with
// the base64 maps of Secrets (data) and ConfigMaps (binaryData) decoded directly:
// the converter turns each []byte value into JSON and back, which for a fan-out of
// an 8 KiB Secret to a thousand namespaces cost more CPU than the writes.
//
// shared, when not nil, holds the values decoded so far, by their base64 form: a
// value seen before is not decoded again but shared.
func fromUnstructured(u map[string]any, obj client.Object, shared map[string][]byte) error {
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
	decoded, err := decodeBase64Map(encoded, shared)
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

// decodeBase64Map decodes the values of an unstructured map of base64 strings,
// reusing (and adding to) shared when it is not nil.
func decodeBase64Map(m map[string]any, shared map[string][]byte) (map[string][]byte, error) {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("key %q: %T is not a base64 string", k, v)
		}
		if b, ok := shared[s]; ok {
			out[k] = b
			continue
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		if shared != nil {
			shared[s] = b
		}
		out[k] = b
	}
	return out, nil
}
