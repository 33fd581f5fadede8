package metastream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Hub runs at most one stream per kind (per kind and namespace, for a hub limited
// to namespaces) and fans its events out to every source taken from it. Add it to
// a manager (NewForManager does) or Start it yourself.
type Hub struct {
	client metadata.Interface
	mapper meta.RESTMapper
	log    logr.Logger
	// namespaces the streams list and watch, one stream each; none: one stream of
	// all namespaces.
	namespaces []string

	mu      sync.Mutex
	streams map[streamKey]*stream
	ctx     context.Context // the Hub's run context, set by Start
	started chan struct{}   // closed by Start
}

// streamKey names a stream: its kind and the namespace it lists ("" for all).
type streamKey struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// New returns a Hub that lists and watches through cfg and httpClient and maps
// kinds to resources with mapper. With namespaces, it lists and watches only
// those (one LIST+WATCH per kind and namespace, as controller-runtime's cache does
// with DefaultNamespaces), and streams only namespaced kinds; without, all of them.
func New(cfg *rest.Config, httpClient *http.Client, mapper meta.RESTMapper, namespaces ...string) (*Hub, error) {
	c, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	return newHub(c, mapper, namespaces...), nil
}

func newHub(c metadata.Interface, mapper meta.RESTMapper, namespaces ...string) *Hub {
	return &Hub{
		client:     c,
		mapper:     mapper,
		log:        ctrl.Log.WithName("metastream"),
		namespaces: slices.Clone(namespaces),
		streams:    map[streamKey]*stream{},
		started:    make(chan struct{}),
	}
}

// NewForManager returns a new Hub that lists and watches with mgr's configuration
// and RESTMapper (in namespaces only, if any are given), added to mgr (which starts
// and stops it). Create one per manager and hand it to every controller that
// streams, so they share one stream per kind.
func NewForManager(mgr manager.Manager, namespaces ...string) (*Hub, error) {
	h, err := New(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetRESTMapper(), namespaces...)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(h); err != nil {
		return nil, fmt.Errorf("adding the metadata stream hub to the manager: %w", err)
	}
	return h, nil
}

// Start runs the Hub's streams until ctx is done. Streams start when a source
// taken from the Hub is started (a controller starting), and only then. A Hub runs
// once: a second Start returns an error.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.ctx != nil {
		h.mu.Unlock()
		return errors.New("metastream: the hub is already running")
	}
	h.ctx = ctx
	h.mu.Unlock()
	close(h.started)
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: the Hub itself does nothing until a controller (which
// does wait for the lease) starts a source.
func (h *Hub) NeedLeaderElection() bool { return false }

// Source returns a source of the events of every object of kind gvk, delivered to
// eventHandler as *metav1.PartialObjectMetadata with gvk set. See the package
// documentation for how they differ from an informer's.
func (h *Hub) Source(gvk schema.GroupVersionKind, eventHandler handler.EventHandler) source.SyncingSource {
	return &streamSource{hub: h, gvk: gvk, handler: eventHandler}
}

// streamsOf returns the streams of gvk, one per namespace of the hub (one for all
// namespaces when it has none), starting them on first use.
func (h *Hub) streamsOf(gvk schema.GroupVersionKind) []*stream {
	if len(h.namespaces) == 0 {
		return []*stream{h.stream(streamKey{gvk: gvk})}
	}
	out := make([]*stream, 0, len(h.namespaces))
	for _, ns := range h.namespaces {
		out = append(out, h.stream(streamKey{gvk: gvk, namespace: ns}))
	}
	return out
}

// stream returns the stream k names, starting it on first use.
func (h *Hub) stream(k streamKey) *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.streams[k]; ok {
		return s
	}
	s := newStream(h, k)
	h.streams[k] = s
	go func() {
		<-h.started
		h.mu.Lock()
		ctx := h.ctx
		h.mu.Unlock()
		s.run(ctx)
	}()
	return s
}

// forget drops a stream that could not start, so the next subscriber starts anew.
func (h *Hub) forget(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams[s.key] == s {
		delete(h.streams, s.key)
	}
}
