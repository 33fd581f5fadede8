package migrate

import (
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// index is the input, sorted and looked up by reference, with the Namespaces and
// the ConfigMaps and Secrets of each namespace at hand.
type index struct {
	// objs is the input in ObjectRef order, so every peer visits objects in the
	// same order whatever order they came in.
	objs  []*unstructured.Unstructured
	byRef map[ObjectRef]*unstructured.Unstructured
	// namespaces maps the name of every Namespace of the input to its labels;
	// nil when the input has none, in which case nothing can be expanded to the
	// namespaces that exist now.
	namespaces map[string]map[string]string
	// inputs maps a namespace and kind (ConfigMap, Secret) to the objects of that
	// kind the input holds there, by name.
	inputs map[inputKey]map[string]*unstructured.Unstructured
}

// inputKey is a namespace and one of the kinds a workload consumes.
type inputKey struct{ namespace, kind string }

func newIndex(objs []*unstructured.Unstructured) (*index, error) {
	idx := &index{byRef: map[ObjectRef]*unstructured.Unstructured{}, inputs: map[inputKey]map[string]*unstructured.Unstructured{}}
	var errs []error
	for i, o := range objs {
		if o == nil {
			errs = append(errs, fmt.Errorf("object %d is nil", i))
			continue
		}
		ref := RefOf(o)
		if ref.Kind == "" || ref.Name == "" || ref.APIVersion == "" {
			errs = append(errs, fmt.Errorf("object %d (%s) has no apiVersion, kind or name", i, ref))
			continue
		}
		if _, dup := idx.byRef[ref]; dup {
			errs = append(errs, fmt.Errorf("%s (%s) appears twice in the input", ref, ref.APIVersion))
			continue
		}
		idx.byRef[ref] = o
		idx.objs = append(idx.objs, o)
		switch {
		case ref.APIVersion == "v1" && ref.Kind == "Namespace":
			if idx.namespaces == nil {
				idx.namespaces = map[string]map[string]string{}
			}
			idx.namespaces[ref.Name] = o.GetLabels()
		case ref.APIVersion == "v1" && (ref.Kind == "ConfigMap" || ref.Kind == "Secret") && ref.Namespace != "":
			k := inputKey{ref.Namespace, ref.Kind}
			if idx.inputs[k] == nil {
				idx.inputs[k] = map[string]*unstructured.Unstructured{}
			}
			idx.inputs[k][ref.Name] = o
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(idx.objs, func(x, y *unstructured.Unstructured) int { return RefOf(x).Compare(RefOf(y)) })
	return idx, nil
}

// input returns the ConfigMap or Secret kind/name of namespace ns, nil when the
// input does not hold it.
func (idx *index) input(ns, kind, name string) *unstructured.Unstructured {
	return idx.inputs[inputKey{ns, kind}][name]
}

// knowsInputs reports whether the input holds any object of kind in ns: only then
// is a name missing from it likely missing from the cluster too.
func (idx *index) knowsInputs(ns, kind string) bool { return len(idx.inputs[inputKey{ns, kind}]) > 0 }

// namespaceNames returns the names of the input's Namespaces, sorted.
func (idx *index) namespaceNames() []string {
	names := make([]string, 0, len(idx.namespaces))
	for n := range idx.namespaces {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
