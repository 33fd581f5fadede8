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
		v := reflect.ValueOf(obj)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return obj, fmt.Errorf("digesting %T: not a pointer to a struct", obj)
		}
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(v.Elem()) // shallow: the content is only read, then dropped
		out = c.Interface().(client.Object)
		m := objectMetaOf(out)
		if m == nil {
			return obj, fmt.Errorf("digesting %T: no ObjectMeta", obj)
		}
		*m = *m.DeepCopy()
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
			if !metadataField(k) {
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
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%T is not a pointer to a struct", obj)
	}
	c := reflect.New(v.Elem().Type()).Elem()
	c.Set(v.Elem())
	for i := range c.NumField() {
		if f := c.Type().Field(i); metadataStructField(f) {
			c.Field(i).Set(reflect.Zero(f.Type))
		}
	}
	return c.Addr().Interface(), nil
}

// stripContent removes everything but apiVersion, kind and metadata from obj.
func stripContent(obj client.Object) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		for k := range u.Object {
			if !kept(k) {
				delete(u.Object, k)
			}
		}
		return
	}
	for f := range typedContent(obj) {
		f.Set(reflect.Zero(f.Type()))
	}
}

// hasContent reports whether obj carries anything but apiVersion, kind and metadata.
func hasContent(obj client.Object) bool {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		for k := range u.Object {
			if !kept(k) {
				return true
			}
		}
		return false
	}
	for f := range typedContent(obj) {
		if !f.IsZero() {
			return true
		}
	}
	return false
}

// kept reports whether a top-level field of an unstructured object stays in a
// digested one.
func kept(k string) bool { return k == "apiVersion" || k == "kind" || k == "metadata" }

// typedContent yields the settable fields of a typed object that a digested one
// does not keep: every exported field but TypeMeta and ObjectMeta.
func typedContent(obj client.Object) iter.Seq[reflect.Value] {
	return func(yield func(reflect.Value) bool) {
		v := reflect.ValueOf(obj).Elem()
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Name != "TypeMeta" && f.Name != "ObjectMeta" && !yield(v.Field(i)) {
				return
			}
		}
	}
}

// metadataField reports whether an unstructured top-level field is left out of the
// content: what Exact does not compare.
func metadataField(k string) bool {
	return k == "apiVersion" || k == "kind" || k == "metadata" || k == "status"
}

// metadataStructField is metadataField for a typed object's struct field.
func metadataStructField(f reflect.StructField) bool {
	return f.Name == "TypeMeta" || f.Name == "ObjectMeta" || f.Name == "Status" || !f.IsExported()
}

// isDigested reports whether live came from a cache that digested it (DigestContent).
func isDigested(live client.Object, key string) bool {
	return key != "" && live.GetAnnotations()[key] != ""
}
