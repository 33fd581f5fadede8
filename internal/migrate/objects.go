package migrate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// The kinds Convert plans, as the API serves them.
const (
	kindClusterPropagation = "ClusterPropagation"
	kindPropagation        = "Propagation"
)

// addObject adds a Courier object to the plan. It is built from the API's own Go
// types, so its fields are spelled as the CRD expects, then rendered without the
// empty status and creationTimestamp a typed object always carries.
func (b *builder) addObject(obj runtime.Object) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		// Only a programming error (a type the converter cannot walk) gets here.
		panic(fmt.Sprintf("migrate: rendering %T: %v", obj, err))
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	b.objects = append(b.objects, &unstructured.Unstructured{Object: m})
}

// addClusterPropagation plans one ClusterPropagation.
func (b *builder) addClusterPropagation(name string, spec v1alpha1.ClusterPropagationSpec) ObjectRef {
	b.addObject(&v1alpha1.ClusterPropagation{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: kindClusterPropagation},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       spec,
	})
	return ObjectRef{APIVersion: v1alpha1.GroupVersion.String(), Kind: kindClusterPropagation, Name: name}
}

// addPropagation plans one Propagation in namespace.
func (b *builder) addPropagation(namespace, name string, spec v1alpha1.PropagationSpec) ObjectRef {
	b.addObject(&v1alpha1.Propagation{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: kindPropagation},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       spec,
	})
	return ObjectRef{APIVersion: v1alpha1.GroupVersion.String(), Kind: kindPropagation, Namespace: namespace, Name: name}
}

// sourceOf is the SourceReference of one input object.
func sourceOf(ref ObjectRef) v1alpha1.SourceReference {
	return v1alpha1.SourceReference{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
}

// refNames lists planned objects for a message: "ClusterPropagation a, b".
func refNames(refs []ObjectRef) string {
	if len(refs) == 0 {
		return "nothing"
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
		if r.Namespace != "" {
			names[i] = r.Namespace + "/" + r.Name
		}
	}
	kind := refs[0].Kind
	if len(refs) > 1 {
		kind += "s"
	}
	return kind + " " + strings.Join(names, ", ")
}

// isCoreSecretOrConfigMap reports whether ref is a v1 Secret or ConfigMap, the
// kinds Courier propagates without an extra RBAC grant.
func isCoreSecretOrConfigMap(apiVersion, kind string) bool {
	return apiVersion == "v1" && (kind == "Secret" || kind == "ConfigMap")
}

// extraKindNote is appended to a message about a propagation of a kind other than
// Secret and ConfigMap, which Courier copies only once a cluster admin grants it.
func extraKindNote(apiVersion, kind string) string {
	if isCoreSecretOrConfigMap(apiVersion, kind) {
		return ""
	}
	return fmt.Sprintf(" Courier copies a %s only once a cluster admin grants it the kind (a ClusterRole labelled courier.dev/aggregate-to-manager and the courier-propagation-kinds entry, docs/propagation.md).", kind)
}
