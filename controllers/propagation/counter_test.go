package propagation

import (
	"context"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
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

func (w *writeCounter) wrap(c client.Client) client.Client { return &countingClient{Client: c, w: w} }

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

type countingClient struct {
	client.Client
	w *writeCounter
}

func (c *countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.w.recordObj("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.w.recordObj("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.w.recordObj("patch", obj)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.w.recordObj("delete", obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c *countingClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	c.w.recordObj("deleteallof", obj)
	return c.Client.DeleteAllOf(ctx, obj, opts...)
}

func (c *countingClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
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
	c.w.add(x)
	return c.Client.Apply(ctx, obj, opts...)
}

func (c *countingClient) Status() client.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.Client.Status(), w: c.w}
}

type countingStatus struct {
	client.SubResourceWriter
	w *writeCounter
}

func (s *countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.w.recordObj("status-update", obj)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

func (s *countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.w.recordObj("status-patch", obj)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}
