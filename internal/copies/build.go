package copies

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Template describes one copy to build. It holds plain Go values, not API types:
// callers convert their API version's template, so one builder serves them all.
type Template struct {
	// Namespace of the copy. It may be the source's own namespace (an alias), as
	// long as the copy's name differs from the source's.
	Namespace string
	// Name of the copy; empty keeps the source's name.
	Name string
	// NamePrefix and NameSuffix surround the copy's name (see CopyName).
	NamePrefix, NameSuffix string
	// Labels and Annotations are added on top of the source's (tooling keys removed).
	Labels, Annotations map[string]string
	// IncludeKeys and ExcludeKeys filter data keys of Secrets and ConfigMaps
	// (globs), as v1alpha1 says it: they mean the key rules include IncludeKeys,
	// then exclude ExcludeKeys (each only when non-empty). They cannot be set
	// together with Keys.
	IncludeKeys, ExcludeKeys []string
	// Keys are the key rules, run in order on the data keys of Secrets and
	// ConfigMaps; none keeps every key under its own name. Other kinds have no
	// keyed data and ignore them (as they always ignored IncludeKeys), but the
	// rules are still checked.
	Keys []KeyRule
	// SecretType, when set, is the copy's type (Secrets only). The copy's keys
	// must fit it as the API server checks them.
	SecretType string
	// OwnerLabel is the label naming the propagation (LabelClusterPropagation or
	// LabelPropagation) and OwnerName its value.
	OwnerLabel, OwnerName string
}

// Build returns the copy of src described by t. src is not modified. Everything
// except metadata and status is copied as is (so the copy is byte-identical to the
// source), apart from the data keys the template's key rules drop or rename and
// the Secret type it sets.
//
// Errors: a *RefusedError if src must never be propagated, whatever the template;
// a *TemplateError if this template cannot make a copy of src (an invalid or
// self-contradicting template, a key conflict, keys that do not fit the Secret
// type, an invalid copy name, or a copy that would overwrite its source).
func Build(src *unstructured.Unstructured, t Template) (*unstructured.Unstructured, error) {
	secretType, _, _ := unstructured.NestedString(src.Object, "type")
	if err := Refuse(src.GetAPIVersion(), src.GetKind(), src.GetLabels(), secretType); err != nil {
		return nil, err
	}
	if t.Namespace == "" || t.OwnerLabel == "" || t.OwnerName == "" {
		return nil, fmt.Errorf("copy template needs a namespace and an owner")
	}
	isSecret := src.GetAPIVersion() == "v1" && src.GetKind() == "Secret"
	keyed := isSecret || (src.GetAPIVersion() == "v1" && src.GetKind() == "ConfigMap")
	rules, err := keyRules(t)
	if err != nil {
		return nil, err
	}
	if t.SecretType != "" {
		if err := checkSecretTypeOverride(t.SecretType, isSecret); err != nil {
			return nil, err
		}
	}
	name := CopyName(t.Name, t.NamePrefix, t.NameSuffix, src.GetName())
	if err := checkCopyName(src.GetAPIVersion(), src.GetKind(), name); err != nil {
		return nil, err
	}
	if t.Namespace == src.GetNamespace() && name == src.GetName() {
		return nil, templateErrorf(ReasonCopyIsSource, "the copy %s/%s would be its own source; a copy in the source's namespace needs another name", t.Namespace, name)
	}

	out := &unstructured.Unstructured{Object: map[string]any{}}
	for k, v := range src.Object {
		if k == "metadata" || k == "status" {
			continue
		}
		out.Object[k] = deepCopyJSONValue(v)
	}
	if keyed {
		if err := applyKeys(out.Object, rules); err != nil {
			return nil, err
		}
	}
	if t.SecretType != "" {
		// After the key rules: renaming a key into place is how a Secret changes type.
		out.Object["type"] = t.SecretType
		if err := checkSecretFits(out.Object, t.SecretType); err != nil {
			return nil, err
		}
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
