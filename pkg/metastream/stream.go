package metastream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/internal/shrinkmap"
)

// pageSize bounds what a LIST holds in memory at once: objects are delivered and
// dropped page by page.
const pageSize = 500

// errGone means the watch cannot resume from its resourceVersion: list again.
var errGone = errors.New("resource version too old")

// stream lists and watches one kind (metadata only, in one namespace or all) and
// delivers each event to its subscribers.
type stream struct {
	hub *Hub
	key streamKey
	gvk schema.GroupVersionKind

	mu     sync.RWMutex
	subs   []subscriber
	synced chan struct{} // closed after the first complete LIST
	err    error         // why the kind cannot be streamed (no such resource); set before synced closes

	// keys are the objects that exist, as of the last event: only the run
	// goroutine touches them. A shrinkmap, so a burst of objects created and
	// deleted again does not leave its memory behind.
	keys shrinkmap.Map[types.NamespacedName, struct{}]
}

// subscriber is one started source: its handler and its controller's queue.
type subscriber struct {
	ctx     context.Context
	handler handler.EventHandler
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
}

func newStream(h *Hub, k streamKey) *stream {
	return &stream{hub: h, key: k, gvk: k.gvk, synced: make(chan struct{})}
}

func (s *stream) subscribe(sub subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, sub)
}

// run lists, then watches from the list's resourceVersion, resuming the watch from
// the last event (bookmarks keep it fresh) and listing again only when the API
// server no longer has that resourceVersion.
func (s *stream) run(ctx context.Context) {
	log := s.hub.log.WithValues("kind", s.gvk.String())
	if s.key.namespace != "" {
		log = log.WithValues("namespace", s.key.namespace)
	}
	mapping, err := s.hub.mapper.RESTMapping(s.gvk.GroupKind(), s.gvk.Version)
	if err != nil {
		s.err = fmt.Errorf("streaming %s: %w", s.gvk, err)
		s.hub.forget(s) // a later subscriber tries again (a CRD installed since, say)
		close(s.synced)
		return
	}
	var res metadata.ResourceInterface = s.hub.client.Resource(mapping.Resource)
	if s.key.namespace != "" {
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			s.err = fmt.Errorf("streaming %s: a hub limited to namespaces streams namespaced kinds only", s.gvk)
			close(s.synced)
			return
		}
		res = s.hub.client.Resource(mapping.Resource).Namespace(s.key.namespace)
	}
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 8, Cap: 30 * time.Second}
	delay := backoff
	var rv string
	first := true
	for ctx.Err() == nil {
		if rv == "" {
			var err error
			if rv, err = s.list(ctx, res, first); err != nil {
				log.Error(err, "listing failed; retrying")
				sleep(ctx, delay.Step())
				continue
			}
			if first {
				first = false
				close(s.synced)
				log.V(1).Info("stream synced", "objects", s.keys.Len())
			}
		}
		next, err := s.watch(ctx, res, rv)
		switch {
		case errors.Is(err, errGone):
			log.V(1).Info("watch expired; listing again")
			rv = ""
		case err != nil && ctx.Err() == nil:
			log.Error(err, "watch failed; resuming")
			rv = next
			sleep(ctx, delay.Step())
		default:
			rv = next
			delay = backoff
		}
	}
}

// list reads the kind page by page, delivering each page and dropping it. The first
// list delivers a Create event per object, as an informer does, to the subscribers
// of that moment; a later one (after the watch expired, so events may have been
// missed) delivers a Generic event per object and a Delete event per object that is
// gone.
func (s *stream) list(ctx context.Context, res metadata.ResourceInterface, first bool) (string, error) {
	var seen shrinkmap.Map[types.NamespacedName, struct{}]
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		page, err := res.List(ctx, opts)
		if err != nil {
			return "", err
		}
		for i := range page.Items {
			obj := &page.Items[i]
			seen.Set(keyOf(obj), struct{}{})
			if first {
				s.deliver(obj, func(sub subscriber, o *metav1.PartialObjectMetadata) {
					sub.handler.Create(sub.ctx, event.CreateEvent{Object: o}, sub.queue)
				})
			} else {
				s.deliver(obj, func(sub subscriber, o *metav1.PartialObjectMetadata) {
					sub.handler.Generic(sub.ctx, event.GenericEvent{Object: o}, sub.queue)
				})
			}
		}
		if page.Continue == "" {
			if !first {
				for k := range s.keys.Keys {
					if _, ok := seen.Get(k); !ok {
						s.deliver(s.stub(k), func(sub subscriber, o *metav1.PartialObjectMetadata) {
							sub.handler.Delete(sub.ctx, event.DeleteEvent{Object: o, DeleteStateUnknown: true}, sub.queue)
						})
					}
				}
			}
			s.keys = seen
			return page.ResourceVersion, nil
		}
		opts.Continue = page.Continue
	}
}

// watch delivers events from rv until the watch ends, and returns the
// resourceVersion to resume from.
func (s *stream) watch(ctx context.Context, res metadata.ResourceInterface, rv string) (string, error) {
	// A server-side timeout spread over 5–10 minutes, like client-go's reflector, so
	// watches do not all end at once.
	timeout := int64((5*time.Minute + rand.N(5*time.Minute)) / time.Second)
	w, err := res.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true, TimeoutSeconds: &timeout})
	if err != nil {
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return rv, errGone
		}
		return rv, err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return rv, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, nil
			}
			if ev.Type == watch.Error {
				err := apierrors.FromObject(ev.Object)
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					return rv, errGone
				}
				return rv, err
			}
			obj, ok := ev.Object.(*metav1.PartialObjectMetadata)
			if !ok {
				return rv, fmt.Errorf("watch of %s sent %T", s.gvk, ev.Object)
			}
			rv = obj.ResourceVersion
			s.apply(ev.Type, obj)
		}
	}
}

// apply records one watch event and delivers it.
func (s *stream) apply(t watch.EventType, obj *metav1.PartialObjectMetadata) {
	k := keyOf(obj)
	switch t {
	case watch.Added:
		s.keys.Set(k, struct{}{})
		s.deliver(obj, func(sub subscriber, o *metav1.PartialObjectMetadata) {
			sub.handler.Create(sub.ctx, event.CreateEvent{Object: o}, sub.queue)
		})
	case watch.Modified:
		s.keys.Set(k, struct{}{})
		s.deliver(obj, func(sub subscriber, o *metav1.PartialObjectMetadata) {
			sub.handler.Update(sub.ctx, event.UpdateEvent{ObjectOld: o, ObjectNew: o}, sub.queue)
		})
	case watch.Deleted:
		s.keys.Delete(k)
		s.deliver(obj, func(sub subscriber, o *metav1.PartialObjectMetadata) {
			sub.handler.Delete(sub.ctx, event.DeleteEvent{Object: o}, sub.queue)
		})
	case watch.Bookmark:
		// Only moves the resourceVersion.
	}
}

// deliver hands obj (with the stream's kind set) to every subscriber.
func (s *stream) deliver(obj *metav1.PartialObjectMetadata, send func(subscriber, *metav1.PartialObjectMetadata)) {
	obj.SetGroupVersionKind(s.gvk)
	obj.ManagedFields = nil
	s.mu.RLock()
	subs := s.subs
	s.mu.RUnlock()
	for _, sub := range subs {
		send(sub, obj)
	}
}

// stub is what is known of an object seen gone on a list: its kind and key.
func (s *stream) stub(k types.NamespacedName) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name}}
}

// keyOf copies the key out of obj, so the key set does not keep decoded objects
// (or the buffers they were decoded from) alive.
func keyOf(obj *metav1.PartialObjectMetadata) types.NamespacedName {
	return types.NamespacedName{Namespace: strings.Clone(obj.Namespace), Name: strings.Clone(obj.Name)}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
