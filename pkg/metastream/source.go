package metastream

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// streamSource is a controller's view of a stream: Start subscribes the
// controller's queue, WaitForSync waits for the stream's first list.
type streamSource struct {
	hub     *Hub
	gvk     schema.GroupVersionKind
	handler handler.EventHandler
	s       *stream
}

// Start subscribes the controller's queue to the kind's stream, starting the stream
// if this is its first subscriber. It does not block.
func (src *streamSource) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	if src.handler == nil {
		return fmt.Errorf("stream source of %s has no event handler", src.gvk)
	}
	src.s = src.hub.stream(src.gvk)
	src.s.subscribe(subscriber{ctx: ctx, handler: src.handler, queue: queue})
	return nil
}

// WaitForSync returns once the stream has listed the kind, or why it cannot.
func (src *streamSource) WaitForSync(ctx context.Context) error {
	if src.s == nil {
		return fmt.Errorf("stream source of %s was not started", src.gvk)
	}
	select {
	case <-src.s.synced:
		return src.s.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the %s stream to list: %w", src.gvk, ctx.Err())
	}
}

// String names the source in controller-runtime's logs.
func (src *streamSource) String() string { return "metastream " + src.gvk.String() }
