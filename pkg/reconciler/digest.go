package reconciler

import (
	"fmt"
	"iter"
	"reflect"
	"unique"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A cache of children need not hold their content. A ChildSet decides from a
// child's metadata (ownership labels, its HashAnnotation, resourceVersion) and
// needs the rest only to tell whether someone edited it; a digest of the content
// tells that as well. With ContentDigest the cache keeps each child's metadata and
// the digest of everything else (DigestContent), so a cached copy of an 8 KiB or a
// 1 MiB Secret costs the same: its metadata. A repair never needs the content
// either: an Exact child is replaced by the desired object as a whole.

// DigestContent returns a cache transform (cache.ByObject.Transform) for the
// children of a ChildSet with ContentDigest: it drops managedFields (replacing the
// manager's DefaultTransform, which a ByObject transform overrides) and replaces
// everything but apiVersion, kind and metadata by its digest, in annotation key.
// The digest is of what Exact compares (see contentOf), so a digested child equals
// its digested desired state exactly when the child equals the desired state. It
// is safe to run twice on one object, as informers may.
func DigestContent(key string) toolscache.TransformFunc {
	return func(in any) (any, error) {
		obj, ok := in.(client.Object)
		if !ok {
			return in, nil // a tombstone: its object was transformed when it was stored
		}
		obj.SetManagedFields(nil)
		if obj.GetAnnotations()[key] != "" && !hasContent(obj) {
			return obj, nil
		}
		if err := digestInPlace(obj, key); err != nil {
			return nil, err
		}
		intern(obj)
		return obj, nil
	}
}

// intern makes obj share the strings that repeat across the children of a set
// (label and annotation keys and values, names and namespaces) with every other
// cached object: decoding gives each object its own copies. A typed object's label
// and annotation maps are updated in place (assigning an existing string key
// replaces the stored key); an unstructured object's are copies, and stay as they
// are. (Rebuilding the object and its maps instead, to detach it from what was
// decoded with it, measured more heap in use, not less: docs/performance.md.)
func intern(obj client.Object) {
	obj.SetNamespace(interned(obj.GetNamespace()))
	obj.SetName(interned(obj.GetName()))
	for _, m := range []map[string]string{obj.GetLabels(), obj.GetAnnotations()} {
		for k, v := range m {
			m[interned(k)] = interned(v)
		}
	}
}

func interned(s string) string { return unique.Make(s).Value() }

// digested returns a copy of obj as DigestContent would cache it, leaving obj as it
// is: content is shared with obj only while it is hashed.
func digested[C client.Object](obj C, key string) (C, error) {
	var out client.Object
	if u, ok := any(obj).(*unstructured.Unstructured); ok {
		c := &unstructured.Unstructured{Object: make(map[string]any, len(u.Object))}
		for k, v := range u.Object {
			c.Object[k] = v
		}
		if md, ok := u.Object["metadata"].(map[string]any); ok {
			c.Object["metadata"] = runtime.DeepCopyJSON(md)
		}
		out = c
	} else {
		c, ok := shallowCopy(obj) // the content is only read, then dropped
		m := objectMetaOf(obj)
		if !ok || m == nil {
			return obj, fmt.Errorf("digesting %T: not a pointer to a struct with ObjectMeta", obj)
		}
		out = c.Interface().(client.Object)
		*objectMetaOf(out) = *m.DeepCopy()
	}
	if err := digestInPlace(out, key); err != nil {
		return obj, err
	}
	return out.(C), nil
}

// digestInPlace sets annotation key of obj to the digest of its content and
// removes the content.
func digestInPlace(obj client.Object, key string) error {
	sum, err := contentDigest(obj)
	if err != nil {
		return fmt.Errorf("digesting %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	stripContent(obj)
	ann := obj.GetAnnotations() // the caller's own: no copy (a cached map is kept as is)
	if ann == nil {
		ann = map[string]string{}
	}
	if _, set := ann[key]; set {
		// Someone wrote the key on the API server: the digest must not hide that
		// the object carries an annotation the desired state may not have.
		sum += foreignDigest
	}
	ann[key] = sum
	obj.SetAnnotations(ann)
	return nil
}

// foreignDigest marks the digest of an object that already carried the digest's
// annotation key before it was digested.
const foreignDigest = "+set-on-the-object"

// contentDigest hashes the JSON of obj's content: every field but apiVersion, kind,
// metadata and status, as Exact compares them (empty maps and lists count as
// absent: typed fields are omitempty, and unstructured ones are pruned here).
func contentDigest(obj client.Object) (string, error) {
	content, err := contentOf(obj)
	if err != nil {
		return "", err
	}
	return jsonHash(content)
}

// contentOf returns what contentDigest hashes: for a typed object a shallow copy
// without TypeMeta, ObjectMeta and Status (encoding/json is deterministic for typed
// objects, and fast with []byte fields); for an unstructured one the map of its
// other top-level fields, without nulls and empty values.
func contentOf(obj client.Object) (any, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		m := make(map[string]any, len(u.Object))
		for k, v := range u.Object {
			if contentField(k) {
				m[k] = v
			}
		}
		m = runtime.DeepCopyJSON(m)
		pruneNulls(m)
		for k, v := range m {
			if isEmpty(v) {
				delete(m, k)
			}
		}
		return m, nil
	}
	c, ok := shallowCopy(obj)
	if !ok {
		return nil, fmt.Errorf("%T is not a pointer to a struct", obj)
	}
	for i := range c.Elem().NumField() {
		if f := c.Elem().Type().Field(i); !contentStructField(f) {
			c.Elem().Field(i).SetZero()
		}
	}
	return c.Interface(), nil
}

// stripContent removes everything but apiVersion, kind and metadata from obj.
func stripContent(obj client.Object) {
	for _, drop := range droppable(obj) {
		drop()
	}
}

// hasContent reports whether obj carries anything but apiVersion, kind and metadata.
func hasContent(obj client.Object) bool {
	for set := range droppable(obj) {
		if set {
			return true
		}
	}
	return false
}

// droppable yields the top-level fields of obj that a digested object does not
// keep (every field but its identity), each as whether it is set and a function
// that removes it.
func droppable(obj client.Object) iter.Seq2[bool, func()] {
	return func(yield func(bool, func()) bool) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			for k := range u.Object {
				if !identityField(k) && !yield(true, func() { delete(u.Object, k) }) {
					return
				}
			}
			return
		}
		v := reflect.ValueOf(obj).Elem()
		for i := range v.NumField() {
			f := v.Field(i)
			if sf := v.Type().Field(i); sf.IsExported() && !identityStructField(sf) && !yield(!f.IsZero(), f.SetZero) {
				return
			}
		}
	}
}

// The top-level fields of a child, by JSON name for an unstructured one and by Go
// field for a typed one: its identity (apiVersion, kind, metadata), which a
// digested child keeps; its status, which Exact neither compares nor hashes; and
// its content, everything else.

func identityField(k string) bool { return k == "apiVersion" || k == "kind" || k == "metadata" }

func contentField(k string) bool { return !identityField(k) && k != "status" }

func identityStructField(f reflect.StructField) bool {
	return f.Name == "TypeMeta" || f.Name == "ObjectMeta"
}

func contentStructField(f reflect.StructField) bool {
	return f.IsExported() && !identityStructField(f) && f.Name != "Status"
}

// shallowCopy returns a pointer to a new copy of the struct obj points to: fields are
// copied by value, so its maps, slices and pointers are obj's. ok is false when obj
// is not a pointer to a struct.
func shallowCopy(obj client.Object) (c reflect.Value, ok bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	c = reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	return c, true
}

// isDigested reports whether live came from a cache that digested it (DigestContent).
func isDigested(live client.Object, key string) bool {
	return key != "" && live.GetAnnotations()[key] != ""
}
