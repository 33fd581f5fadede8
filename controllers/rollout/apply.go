package rollout

import (
	"context"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
//
// With the restart strategy (placement.restartPath) the hash goes on the workload's
// metadata instead, and the restart timestamp is the last rollout's time (to the
// second, as the API stores it), applied with every later state too: the value stays
// the same, so it restarts the pods once.
func applyRecord(ctx context.Context, c client.Client, p placement, obj client.Object, next record) error {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(p.gvk)
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	u.SetUID(obj.GetUID())
	u.SetAnnotations(next.metaAnnotations())
	templateHash := next.TemplateHash
	if p.restartPath != nil {
		templateHash = p.keptTemplateHash
		if next.TemplateHash != "" {
			if err := unstructured.SetNestedField(u.Object, next.TemplateHash, "metadata", "annotations", AnnotationConfigHash); err != nil {
				return err
			}
			if !next.LastRollout.IsZero() {
				if err := unstructured.SetNestedField(u.Object, restartAt(next.LastRollout), p.restartPath...); err != nil {
					return err
				}
			}
		}
	}
	if templateHash != "" {
		path := append(slices.Clone(p.templatePath), "metadata", "annotations", AnnotationConfigHash)
		if err := unstructured.SetNestedField(u.Object, templateHash, path...); err != nil {
			return err
		}
	}
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
}

// restartAt is the restart timestamp of a rollout made at t: to the second, as the
// API server stores it, and never after t, so the workload's controller acts on it
// at once.
func restartAt(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }
