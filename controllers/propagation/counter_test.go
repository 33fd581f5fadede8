package propagation

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// write is one write the manager made.
type write struct {
	verb, kind, namespace, name string
	labels                      map[string]string
}

// writeCounter records every write made through the clients it wraps, so specs can
// assert exact write counts instead of timing anything.
type writeCounter struct {
	scheme *runtime.Scheme
	mu     sync.Mutex
	all    []write
}

func newWriteCounter(s *runtime.Scheme) *writeCounter { return &writeCounter{scheme: s} }

// wrap returns c with every write it makes recorded, through controller-runtime's
// interceptor; writes to a subresource are recorded as "status-patch" and so on.
func (w *writeCounter) wrap(c client.Client) client.Client {
	return interceptor.NewClient(noWatch{c}, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			w.recordObj("create", obj)
			return c.Create(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			w.recordObj("patch", obj)
			return c.Patch(ctx, obj, patch, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			w.recordObj("update", obj)
			return c.Update(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			w.add(appliedWrite(obj))
			return c.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			w.recordObj("delete", obj)
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			w.recordObj(sub+"-update", obj)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		DeleteAllOf: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteAllOfOption) error {
			w.recordObj("deleteallof", obj)
			return c.DeleteAllOf(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			w.recordObj(sub+"-patch", obj)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
}

// appliedWrite is the write an apply configuration makes (kind, name, namespace and
// labels read back from its JSON).
func appliedWrite(obj runtime.ApplyConfiguration) write {
	x := write{verb: "apply"}
	if raw, err := json.Marshal(obj); err == nil {
		var m struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if json.Unmarshal(raw, &m) == nil {
			x.kind, x.name, x.namespace, x.labels = m.Kind, m.Metadata.Name, m.Metadata.Namespace, m.Metadata.Labels
		}
	}
	return x
}

// noWatch lets a plain client.Client be intercepted (interceptor.NewClient takes a
// WithWatch); nothing watches through the counted client.
type noWatch struct{ client.Client }

func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("the counting client does not watch")
}

func (w *writeCounter) recordObj(verb string, obj client.Object) {
	kind := ""
	if gvk, err := apiutil.GVKForObject(obj, w.scheme); err == nil {
		kind = gvk.Kind
	}
	w.add(write{verb: verb, kind: kind, namespace: obj.GetNamespace(), name: obj.GetName(), labels: obj.GetLabels()})
}

func (w *writeCounter) add(x write) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all = append(w.all, x)
}

// count returns how many recorded writes satisfy match.
func (w *writeCounter) count(match func(write) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, x := range w.all {
		if match(x) {
			n++
		}
	}
	return n
}

// since returns the writes recorded after the first n that satisfy match.
func (w *writeCounter) since(n int, match func(write) bool) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	seen := 0
	for _, x := range w.all {
		if !match(x) {
			continue
		}
		seen++
		if seen > n {
			out = append(out, x.verb+" "+x.kind+" "+x.namespace+"/"+x.name)
		}
	}
	return out
}
