// Package metacache gives each manager one shared cache for the metadata of objects
// the manager's own cache cannot show.
//
// Courier's manager cache selects ConfigMaps and Secrets by Courier's copy label
// (app.kubernetes.io/managed-by=courier), and a cache has one selector per kind.
// Controllers that must see every ConfigMap or Secret (propagation sources,
// rollout inputs) watch them through this cache instead:
//
//	meta, err := metacache.ForManager(mgr)
//	...
//	reconciler.For(...).
//		Watches(&corev1.Secret{}, mapFn, reconciler.MetadataOnly(), reconciler.FromCache(meta))
//
// Only ever ask it for PartialObjectMetadata (watches with MetadataOnly,
// reconciler.MetadataWatch, List/Get with metav1.PartialObjectMetadata(List)). A
// typed Get, List or watch would start a full informer of that kind, unselected —
// every Secret's data in memory. All controllers of a manager share the cache, so
// there is one metadata informer per kind, whatever the number of controllers
// watching it. managedFields are stripped from every cached object.
package metacache
