package metastream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

// Hub runs at most one stream per kind and fans its events out to every source
// taken from it. Add it to a manager (NewForManager does) or Start it yourself.
type Hub struct {
	client metadata.Interface
	mapper meta.RESTMapper
	log    logr.Logger

	mu      sync.Mutex
	streams map[schema.GroupVersionKind]*stream
	ctx     context.Context // the Hub's run context, set by Start
	started chan struct{}   // closed by Start
}

// New returns a Hub that lists and watches through cfg and httpClient and maps
// kinds to resources with mapper.
func New(cfg *rest.Config, httpClient *http.Client, mapper meta.RESTMapper) (*Hub, error) {
	c, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	return newHub(c, mapper), nil
}

func newHub(c metadata.Interface, mapper meta.RESTMapper) *Hub {
	return &Hub{
		client:  c,
		mapper:  mapper,
		log:     ctrl.Log.WithName("metastream"),
		streams: map[schema.GroupVersionKind]*stream{},
		started: make(chan struct{}),
	}
}

// NewForManager returns a new Hub that lists and watches with mgr's configuration
// and RESTMapper, added to mgr (which starts and stops it). Create one per manager
// and hand it to every controller that streams, so they share one stream per kind.
func NewForManager(mgr manager.Manager) (*Hub, error) {
	h, err := New(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetRESTMapper())
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

// stream returns the stream of gvk, starting it on first use.
func (h *Hub) stream(gvk schema.GroupVersionKind) *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.streams[gvk]; ok {
		return s
	}
	s := newStream(h, gvk)
	h.streams[gvk] = s
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
	if h.streams[s.gvk] == s {
		delete(h.streams, s.gvk)
	}
}
