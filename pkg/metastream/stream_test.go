package metastream

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var secretGVK = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}

// recorder is an event handler that writes down what it was given.
type recorder struct {
	mu     sync.Mutex
	events []string
	// check, when set, inspects every object handed out before it is recorded.
	check func(client.Object)
}

func (r *recorder) add(kind string, o client.Object, extra string) {
	if r.check != nil {
		r.check(o)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	gvk := o.GetObjectKind().GroupVersionKind()
	r.events = append(r.events, fmt.Sprintf("%s %s %s/%s%s", kind, gvk.Kind, o.GetNamespace(), o.GetName(), extra))
}

func (r *recorder) Create(_ context.Context, e event.CreateEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	r.add("create", e.Object, "")
}

func (r *recorder) Update(_ context.Context, e event.UpdateEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if e.ObjectOld != e.ObjectNew {
		r.add("update-with-distinct-old", e.ObjectNew, "")
		return
	}
	r.add("update", e.ObjectNew, "")
}

func (r *recorder) Delete(_ context.Context, e event.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	extra := ""
	if e.DeleteStateUnknown {
		extra = " (state unknown)"
	}
	r.add("delete", e.Object, extra)
}

func (r *recorder) Generic(_ context.Context, e event.GenericEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	r.add("generic", e.Object, "")
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	sort.Strings(out)
	return out
}

func secret(ns, name string) *metav1.PartialObjectMetadata {
	o := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: "1"}}
	o.SetGroupVersionKind(secretGVK)
	return o
}

// TestRelistAfterExpiredWatch drives a stream over a fake metadata client whose
// watches the test controls: events are delivered as they come, and when the watch
// expires (410) a new list reports every listed object as Generic and every object
// gone meanwhile as a Delete with DeleteStateUnknown.
func TestRelistAfterExpiredWatch(t *testing.T) {
	var fc *metadatafake.FakeMetadataClient
	hub, watches, ctx := controlledStream(t, func(c *metadatafake.FakeMetadataClient) { fc = c },
		secret("a", "kept"), secret("a", "removed-while-away"))

	rec := &recorder{}
	subscribe(ctx, t, hub, secretGVK, rec)
	w := receive(t, watches)
	waitFor(t, rec, []string{"create Secret a/kept", "create Secret a/removed-while-away"})

	// A source started on a running stream gets no replay, only later events.
	late := &recorder{}
	subscribe(ctx, t, hub, secretGVK, late)

	w.Add(secret("b", "new"))
	w.Modify(secret("a", "kept"))
	w.Delete(secret("b", "new"))
	waitFor(t, rec, []string{"create Secret b/new", "delete Secret b/new", "update Secret a/kept"})
	waitFor(t, late, []string{"create Secret b/new", "delete Secret b/new", "update Secret a/kept"})

	// While the watch is away, one object goes and another comes; then it expires.
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	if err := fc.Tracker().Delete(gvr, "a", "removed-while-away"); err != nil {
		t.Fatal(err)
	}
	if err := fc.Tracker().Add(secret("c", "added-while-away")); err != nil {
		t.Fatal(err)
	}
	w.Error(&apierrors.NewResourceExpired("too old resource version").ErrStatus)
	waitFor(t, rec, []string{"delete Secret a/removed-while-away (state unknown)", "generic Secret a/kept", "generic Secret c/added-while-away"})

	// The stream watches again, and keeps the new key set.
	w = receive(t, watches)
	w.Delete(secret("c", "added-while-away"))
	waitFor(t, rec, []string{"delete Secret c/added-while-away"})
}

// TestUnknownKind: a kind the RESTMapper does not know fails WaitForSync with the
// reason, and a later source for it tries again.
func TestUnknownKind(t *testing.T) {
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	hub := newHub(metadatafake.NewSimpleMetadataClient(scheme), meta.NewDefaultRESTMapper(nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = hub.Start(ctx) }()
	gvk := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	for range 2 {
		src := hub.Source(gvk, &recorder{})
		if err := src.Start(ctx, nil); err != nil {
			t.Fatal(err)
		}
		err := src.WaitForSync(ctx)
		if err == nil || !meta.IsNoMatchError(err) {
			t.Fatalf("WaitForSync: %v, want a no-match error", err)
		}
	}
}

func receive(t *testing.T, ws chan *watch.FakeWatcher) *watch.FakeWatcher {
	t.Helper()
	select {
	case w := <-ws:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not watch")
		return nil
	}
}

func waitFor(t *testing.T, rec *recorder, want []string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got = append(got, rec.take()...)
		sort.Strings(got)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("events:\n got %q\nwant %q", got, want)
}

// subscribe starts a source of gvk's stream that hands events to rec, and waits
// until it has synced.
func subscribe(ctx context.Context, t *testing.T, hub *Hub, gvk schema.GroupVersionKind, rec *recorder) {
	t.Helper()
	src := hub.Source(gvk, rec)
	if err := src.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := src.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
}

// metadataOnly is a recorder's check that every object handed out is metadata only.
func metadataOnly(t *testing.T) func(client.Object) {
	return func(o client.Object) {
		if _, ok := o.(*metav1.PartialObjectMetadata); !ok {
			t.Errorf("event object is %T, want *metav1.PartialObjectMetadata", o)
		}
		if len(o.GetManagedFields()) != 0 {
			t.Errorf("event object %s carries managedFields", o.GetName())
		}
	}
}

func TestHubStartsOnce(t *testing.T) {
	scheme := runtime.NewScheme()
	metav1.AddMetaToScheme(scheme)
	hub := newHub(metadatafake.NewSimpleMetadataClient(scheme), meta.NewDefaultRESTMapper(nil))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- hub.Start(ctx) }()
	<-hub.started
	if err := hub.Start(ctx); err == nil {
		t.Error("a second Start succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start returned %v on cancel", err)
	}
}

// TestNamespacedHub: a hub limited to namespaces lists and watches each of them and
// nothing else (a delete in a namespace outside them is never heard of), and
// refuses to stream a cluster-scoped kind.
func TestNamespacedHub(t *testing.T) {
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(secretGVK, meta.RESTScopeNamespace)
	nsGVK := schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	mapper.Add(nsGVK, meta.RESTScopeRoot)
	fc := metadatafake.NewSimpleMetadataClient(scheme,
		secret("team-a", "db"), secret("team-b", "tls"), secret("team-c", "x"), secret("team-c", "y"))
	hub := newHub(fc, mapper, "team-a", "team-c")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = hub.Start(ctx) }()

	rec := &recorder{check: metadataOnly(t)}
	subscribe(ctx, t, hub, secretGVK, rec)
	waitFor(t, rec, []string{"create Secret team-a/db", "create Secret team-c/x", "create Secret team-c/y"})
	if n := len(hub.streams); n != 2 {
		t.Errorf("%d streams for one kind in two namespaces, want 2", n)
	}

	// The fake client replays nothing to a watch that starts after a delete (a real
	// API server would, from the list's resourceVersion): delete only once both
	// namespaces' watches are open, or a loaded machine loses the event.
	watching := func() bool {
		open := map[string]bool{}
		for _, a := range fc.Actions() {
			if a.GetVerb() == "watch" && a.GetResource().Resource == "secrets" {
				open[a.GetNamespace()] = true
			}
		}
		return open["team-a"] && open["team-c"]
	}
	for deadline := time.Now().Add(30 * time.Second); !watching(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the streams did not open their watches")
		}
	}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	for _, k := range []struct{ ns, name string }{{"team-b", "tls"}, {"team-c", "y"}} {
		if err := fc.Resource(gvr).Namespace(k.ns).Delete(ctx, k.name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, rec, []string{"delete Secret team-c/y"})

	src := hub.Source(nsGVK, &recorder{})
	if err := src.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := src.WaitForSync(ctx); err == nil || !strings.Contains(err.Error(), "namespaced kinds only") {
		t.Errorf("streaming Namespaces through a namespaced hub: %v, want a refusal", err)
	}
}
