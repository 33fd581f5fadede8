package rollout

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applyRecord stores next on the workload with one server-side apply under
// FieldManager.
//
// The apply names only the fields this controller owns: its metadata annotations and,
// once there is one, the pod-template annotation courier.dev/config-hash. Every other
// field stays with its manager. Because an apply removes the owned fields it omits,
// the applied object always carries the full owned set (record.metaAnnotations and
// the current template hash), never a delta. The object's uid is a precondition, so
// a workload deleted and recreated under the same name is never written from a stale
// read, and the apply can never create a workload.
func applyRecord(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, obj client.Object, next record) error {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	u.SetUID(obj.GetUID())
	u.SetAnnotations(next.metaAnnotations())
	if next.TemplateHash != "" {
		u.Object["spec"] = map[string]any{"template": map[string]any{"metadata": map[string]any{
			"annotations": map[string]any{AnnotationConfigHash: next.TemplateHash},
		}}}
	}
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
}
