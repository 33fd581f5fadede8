package metastream

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// streamSource is a controller's view of a kind's streams (one, or one per
// namespace of the hub): Start subscribes the controller's queue, WaitForSync
// waits for the streams' first lists.
type streamSource struct {
	hub     *Hub
	gvk     schema.GroupVersionKind
	handler handler.EventHandler
	streams []*stream
}

// Start subscribes the controller's queue to the kind's streams, starting a stream
// if this is its first subscriber. It does not block.
func (src *streamSource) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	if src.handler == nil {
		return fmt.Errorf("stream source of %s has no event handler", src.gvk)
	}
	src.streams = src.hub.streamsOf(src.gvk)
	for _, s := range src.streams {
		s.subscribe(subscriber{ctx: ctx, handler: src.handler, queue: queue})
	}
	return nil
}

// WaitForSync returns once every stream has listed the kind, or why one cannot.
func (src *streamSource) WaitForSync(ctx context.Context) error {
	if src.streams == nil {
		return fmt.Errorf("stream source of %s was not started", src.gvk)
	}
	for _, s := range src.streams {
		select {
		case <-s.synced:
			if s.err != nil {
				return s.err
			}
		case <-ctx.Done():
			return fmt.Errorf("waiting for the %s stream to list: %w", src.gvk, ctx.Err())
		}
	}
	return nil
}

// String names the source in controller-runtime's logs.
func (src *streamSource) String() string { return "metastream " + src.gvk.String() }
