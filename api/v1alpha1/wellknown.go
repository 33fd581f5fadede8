package v1alpha1

// Well-known labels, annotations and names shared by every Courier component. They
// are part of Courier's public contract: users select on them, other tools may read
// them, and the manager's copy cache is keyed on LabelManagedBy.
const (
	// LabelManagedBy marks every object Courier manages. The manager caches Secrets
	// and ConfigMaps selected by LabelManagedBy=ManagedByValue only.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on Courier's copies.
	ManagedByValue = "courier"

	// LabelClusterPropagation names the ClusterPropagation that owns a copy.
	LabelClusterPropagation = "courier.dev/cluster-propagation"
	// LabelPropagation names the Propagation (in the copy's own namespace) that owns a copy.
	LabelPropagation = "courier.dev/propagation"

	// AnnotationSource records the source of a copy as "<namespace>/<name>".
	AnnotationSource = "courier.dev/source"
	// AnnotationSourceKind records the source's kind as "<apiVersion>/<kind>"
	// (for the core group "v1/<kind>").
	AnnotationSourceKind = "courier.dev/source-kind"

	// AnnotationCopyHash carries, on every copy, a hash of the copy as Courier last
	// wanted it. The copy cache strips managedFields, so this is how a field removed
	// from the source (a deleted data key) is noticed and removed from the copies.
	AnnotationCopyHash = "courier.dev/copy-hash"

	// AnnotationShareWithNamespaces is set by a source's owner to consent to pulls
	// (Propagation) from namespaces matching any of its comma-separated glob patterns.
	AnnotationShareWithNamespaces = "courier.dev/share-with-namespaces"
	// AnnotationShareWithNamespaceSelector is set by a source's owner to consent to
	// pulls from namespaces whose labels match this label selector ("tier=prod").
	AnnotationShareWithNamespaceSelector = "courier.dev/share-with-namespace-selector"

	// LabelRolloutOnChange opts a workload into rollout on change.
	LabelRolloutOnChange = "courier.dev/rollout-on-change"
	// AnnotationConfigHash is the pod-template annotation the rollout controller patches.
	AnnotationConfigHash = "courier.dev/config-hash"

	// FieldOwner is Courier's server-side apply field manager.
	FieldOwner = "courier"
	// Finalizer guards cleanup of copies when a propagation is deleted.
	Finalizer = "courier.dev/cleanup"

	// ReservedPrefix is the label/annotation prefix only Courier may set on copies.
	ReservedPrefix = "courier.dev/"
)
