package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// tracker records, through one list and watch, when each object first satisfied a
// condition. Courier and the baseline are timed by the same tracker, so observation
// latency is the same on both sides.
type tracker struct {
	mu      sync.Mutex
	first   map[string]time.Time // namespace/name -> first time the condition held
	changed chan struct{}
	cancel  context.CancelFunc
	err     error
}

// track lists objects of list's type and watches them from that point on; match
// decides whether an object counts. Objects that already match at list time are
// recorded with the list's time.
func track(ctx context.Context, c client.WithWatch, list client.ObjectList, match func(client.Object) bool, opts ...client.ListOption) (*tracker, error) {
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	t := &tracker{first: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	now := time.Now()
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if o, ok := it.(client.Object); ok && match(o) {
			t.first[key(o)] = now
		}
	}
	rv := list.GetResourceVersion()
	ctx, t.cancel = context.WithCancel(ctx)
	w, err := c.Watch(ctx, list, append(append([]client.ListOption{}, opts...), &client.ListOptions{Raw: watchFrom(rv)})...)
	if err != nil {
		t.cancel()
		return nil, err
	}
	go t.run(ctx, c, list, match, opts, w, rv)
	return t, nil
}

func key(o client.Object) string { return o.GetNamespace() + "/" + o.GetName() }

// run consumes watch events, re-watching from the last seen resourceVersion when the
// server closes the stream.
func (t *tracker) run(ctx context.Context, c client.WithWatch, list client.ObjectList, match func(client.Object) bool,
	opts []client.ListOption, w watch.Interface, rv string) {
	for {
		for ev := range w.ResultChan() {
			o, ok := ev.Object.(client.Object)
			if !ok {
				continue // a watch error status: re-watch below
			}
			rv = o.GetResourceVersion()
			if (ev.Type == watch.Added || ev.Type == watch.Modified) && match(o) {
				now := time.Now()
				t.mu.Lock()
				if _, seen := t.first[key(o)]; !seen {
					t.first[key(o)] = now
				}
				t.mu.Unlock()
				select {
				case t.changed <- struct{}{}:
				default:
				}
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return
		}
		var err error
		w, err = c.Watch(ctx, list, append(append([]client.ListOption{}, opts...), &client.ListOptions{Raw: watchFrom(rv)})...)
		if err != nil {
			t.mu.Lock()
			t.err = fmt.Errorf("re-watching: %w", err)
			t.mu.Unlock()
			select {
			case t.changed <- struct{}{}:
			default:
			}
			return
		}
	}
}

// stop ends the watch.
func (t *tracker) stop() { t.cancel() }

// wait blocks until n objects matched, or the timeout.
func (t *tracker) wait(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		got, err := len(t.first), t.err
		t.mu.Unlock()
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		select {
		case <-t.changed:
		case <-deadline.C:
			return fmt.Errorf("only %d of %d objects reached the expected state within %s", got, n, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// since returns the arrival delays after t0 of the objects that matched after t0
// and whose key passes keep (nil keeps all), sorted.
func (t *tracker) since(t0 time.Time, keep func(string) bool) []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []time.Duration
	for k, at := range t.first {
		if at.Before(t0) || (keep != nil && !keep(k)) {
			continue
		}
		out = append(out, at.Sub(t0))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// latency summarises arrival delays: the last one (total) and percentiles.
type latency struct {
	Count  int     `json:"count"`
	FirstS float64 `json:"first_s"`
	TotalS float64 `json:"total_s"`
	P50S   float64 `json:"p50_s"`
	P99S   float64 `json:"p99_s"`
	// CurveS[k] is when (k+1)% of the arrivals had happened: the curve the plots
	// draw (objects over time), a hundred points whatever the count.
	CurveS []float64 `json:"curve_s,omitempty"`
}

func summarize(d []time.Duration) latency {
	if len(d) == 0 {
		return latency{}
	}
	pct := func(p float64) float64 {
		i := int(p*float64(len(d))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(d) {
			i = len(d) - 1
		}
		return d[i].Seconds()
	}
	curve := make([]float64, 100)
	for k := range curve {
		curve[k] = pct(float64(k+1) / 100)
	}
	return latency{Count: len(d), FirstS: d[0].Seconds(), TotalS: d[len(d)-1].Seconds(), P50S: pct(0.50), P99S: pct(0.99), CurveS: curve}
}

// watchFrom makes a watch start right after resourceVersion rv.
func watchFrom(rv string) *metav1.ListOptions {
	return &metav1.ListOptions{ResourceVersion: rv}
}
