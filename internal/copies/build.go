package copies

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/glob"
)

// Template describes one copy to build.
type Template struct {
	// Namespace of the copy.
	Namespace string
	// Name of the copy; empty keeps the source's name.
	Name string
	// Labels and Annotations are added on top of the source's (tooling keys removed).
	Labels, Annotations map[string]string
	// IncludeKeys and ExcludeKeys filter data keys of Secrets and ConfigMaps (globs).
	IncludeKeys, ExcludeKeys []string
	// OwnerLabel is the label naming the propagation (LabelClusterPropagation or
	// LabelPropagation) and OwnerName its value.
	OwnerLabel, OwnerName string
}

// dataFields are the Secret/ConfigMap fields holding keyed data.
var dataFields = []string{"data", "binaryData", "stringData"}

// Build returns the copy of src described by t, or a *RefusedError if src must
// never be propagated. src is not modified. Everything except metadata and status
// is copied as is (so the copy is byte-identical to the source), apart from data
// keys filtered out by the template.
func Build(src *unstructured.Unstructured, t Template) (*unstructured.Unstructured, error) {
	secretType, _, _ := unstructured.NestedString(src.Object, "type")
	if err := Refuse(src.GetAPIVersion(), src.GetKind(), src.GetLabels(), secretType); err != nil {
		return nil, err
	}
	if t.Namespace == "" || t.OwnerLabel == "" || t.OwnerName == "" {
		return nil, fmt.Errorf("copy template needs a namespace and an owner")
	}
	out := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range src.Object {
		if k == "metadata" || k == "status" {
			continue
		}
		out.Object[k] = deepCopyJSONValue(v)
	}
	if src.GetAPIVersion() == "v1" && (src.GetKind() == "Secret" || src.GetKind() == "ConfigMap") {
		filterKeys(out.Object, t.IncludeKeys, t.ExcludeKeys)
	}

	name := t.Name
	if name == "" {
		name = src.GetName()
	}
	out.SetName(name)
	out.SetNamespace(t.Namespace)

	labels := keep(src.GetLabels())
	for k, v := range t.Labels {
		labels[k] = v
	}
	labels[v1alpha1.LabelManagedBy] = v1alpha1.ManagedByValue
	labels[t.OwnerLabel] = t.OwnerName
	out.SetLabels(labels)

	annotations := keep(src.GetAnnotations())
	for k, v := range t.Annotations {
		annotations[k] = v
	}
	annotations[v1alpha1.AnnotationSource] = src.GetNamespace() + "/" + src.GetName()
	annotations[v1alpha1.AnnotationSourceKind] = src.GetAPIVersion() + "/" + src.GetKind()
	out.SetAnnotations(annotations)
	return out, nil
}

// filterKeys keeps the data keys matching include (all when empty) and not matching
// exclude, in every keyed data field.
func filterKeys(obj map[string]any, include, exclude []string) {
	if len(include) == 0 && len(exclude) == 0 {
		return
	}
	for _, f := range dataFields {
		m, ok := obj[f].(map[string]any)
		if !ok {
			continue
		}
		for k := range m {
			if (len(include) > 0 && !glob.MatchAny(include, k)) || glob.MatchAny(exclude, k) {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(obj, f)
		}
	}
}

// deepCopyJSONValue copies a JSON-compatible value (as held by unstructured).
func deepCopyJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopyJSONValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopyJSONValue(e)
		}
		return s
	default:
		return x
	}
}
