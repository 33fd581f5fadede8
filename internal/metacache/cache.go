package metacache

import (
	"fmt"
	"sync"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

var (
	mu     sync.Mutex
	caches = map[ctrl.Manager]cache.Cache{}
)

// ForManager returns the metadata cache of mgr, creating it and adding it to mgr on
// the first call; later calls with the same manager return the same cache.
//
// The cache uses the manager's config, HTTP client, scheme and RESTMapper, and
// strips managedFields. It is added to the manager as a cache runnable, so the
// manager starts and syncs it with its own caches, before any controller and on
// every replica (not only the leader): a new leader's watches are warm.
//
// Ask it for PartialObjectMetadata only (see the package documentation).
func ForManager(mgr ctrl.Manager) (cache.Cache, error) {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := caches[mgr]; ok {
		return c, nil
	}
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient:       mgr.GetHTTPClient(),
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: cache.TransformStripManagedFields(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the shared metadata cache: %w", err)
	}
	if err := mgr.Add(runnable{c}); err != nil {
		return nil, fmt.Errorf("adding the shared metadata cache to the manager: %w", err)
	}
	caches[mgr] = c
	return c, nil
}

// runnable makes the manager treat the cache as one of its caches: the manager
// recognises runnables with GetCache() and starts them in its caches group.
type runnable struct{ cache.Cache }

// GetCache returns the wrapped cache.
func (r runnable) GetCache() cache.Cache { return r.Cache }
