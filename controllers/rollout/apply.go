package rollout

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applyRecord stores next on the workload with one server-side apply under
// FieldManager.
//
// The apply names only the fields this controller owns: its metadata annotations and,
// once there is one, the pod-template annotation courier.dev/config-hash (at
// templatePath). Every other
// field stays with its manager. Because an apply removes the owned fields it omits,
// the applied object always carries the full owned set (record.metaAnnotations and
// the current template hash), never a delta. The object's uid is a precondition, so
// a workload deleted and recreated under the same name is never written from a stale
// read, and the apply can never create a workload.
func applyRecord(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, templatePath []string, obj client.Object, next record) error {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	u.SetUID(obj.GetUID())
	u.SetAnnotations(next.metaAnnotations())
	if next.TemplateHash != "" {
		path := append(slices.Clone(templatePath), "metadata", "annotations", AnnotationConfigHash)
		if err := unstructured.SetNestedField(u.Object, next.TemplateHash, path...); err != nil {
			return err
		}
	}
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
}
