package rollout

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// inputsCache is a cache of its own for the metadata of every ConfigMap and Secret.
//
// It cannot be the manager's cache: there, ConfigMaps and Secrets are selected by
// app.kubernetes.io/managed-by=courier (the propagation controller's copies), and a
// cache has one selector per type, whether the objects are watched in full or as
// metadata. This one holds PartialObjectMetadata only (managedFields stripped), so
// its memory grows with the number of objects, not with their data.
//
// It implements GetCache, so the manager starts it with its other caches, on every
// replica, before any controller: a new leader's watches are warm.
type inputsCache struct{ cache.Cache }

// GetCache makes the manager treat inputsCache as a cache runnable.
func (c inputsCache) GetCache() cache.Cache { return c.Cache }

// newInputsCache creates the metadata cache and adds it to the manager.
func newInputsCache(mgr ctrl.Manager) (cache.Cache, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient:       mgr.GetHTTPClient(),
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: cache.TransformStripManagedFields(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the ConfigMap/Secret metadata cache: %w", err)
	}
	if err := mgr.Add(inputsCache{c}); err != nil {
		return nil, err
	}
	return c, nil
}
