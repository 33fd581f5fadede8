package metastream

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A controller hears about every Secret of the cluster, as metadata, and maps each
// event to the primaries that care; nothing of the Secrets is kept. In a manager:
//
//	hub, _ := metastream.NewForManager(mgr)
//	reconciler.For("widget", newWidget).WatchesStream(&corev1.Secret{}, hub, mapFn)
//
// Here the Hub runs over a fake metadata client and the map function prints.
func ExampleHub() {
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(secretGVK, meta.RESTScopeNamespace)
	hub := newHub(metadatafake.NewSimpleMetadataClient(scheme, secret("team-a", "db"), secret("team-b", "tls")), mapper)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = hub.Start(ctx) }()

	var mu sync.Mutex
	var seen []string
	mapFn := func(_ context.Context, obj client.Object) []reconcile.Request {
		mu.Lock()
		defer mu.Unlock()
		_, metadataOnly := obj.(*metav1.PartialObjectMetadata)
		seen = append(seen, fmt.Sprintf("%s/%s (metadata only: %v)", obj.GetNamespace(), obj.GetName(), metadataOnly))
		return nil
	}
	src := hub.Source(secretGVK, handler.EnqueueRequestsFromMapFunc(mapFn))
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer queue.ShutDown()
	_ = src.Start(ctx, queue)
	_ = src.WaitForSync(ctx) // returns once the first list was delivered

	mu.Lock()
	sort.Strings(seen)
	for _, s := range seen {
		fmt.Println(s)
	}
	mu.Unlock()
	// Output:
	// team-a/db (metadata only: true)
	// team-b/tls (metadata only: true)
}
