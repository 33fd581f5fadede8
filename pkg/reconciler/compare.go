package reconciler

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// toUnstructuredMap converts a typed or unstructured object to its map form.
func toUnstructuredMap(obj runtime.Object) (map[string]any, error) {
	if u, ok := obj.(runtime.Unstructured); ok {
		return u.UnstructuredContent(), nil
	}
	return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
}

// applyPayload turns a desired child into the unstructured object sent with
// server-side apply: apiVersion/kind set, null values dropped (a typed object has no
// way to say "unset"), server-populated metadata and status removed.
func applyPayload(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	m, err := toUnstructuredMap(obj)
	if err != nil {
		return nil, err
	}
	m = runtime.DeepCopyJSON(m)
	pruneNulls(m)
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, f := range []string{"creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName"} {
			delete(md, f)
		}
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

func pruneNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			pruneNulls(e)
		}
	case []any:
		for _, e := range t {
			pruneNulls(e)
		}
	}
}

// comparable returns the part of an apply payload that the default Matches compares:
// everything but metadata, plus metadata.labels and metadata.annotations.
func comparablePart(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case "metadata":
			md, _ := v.(map[string]any)
			keep := map[string]any{}
			for _, f := range []string{"labels", "annotations"} {
				if x, ok := md[f]; ok {
					keep[f] = x
				}
			}
			out[k] = keep
		case "apiVersion", "kind", "status":
		default:
			out[k] = v
		}
	}
	return out
}

// isSubset reports whether every field of desired is present and equal in live.
// Maps are compared key by key (extra keys in live are fine: defaults, other
// managers); lists must have the same length and match element by element; empty
// maps and lists in desired match absent fields in live; numbers compare by value.
func isSubset(desired, live any) bool {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return len(d) == 0 && live == nil
		}
		for k, dv := range d {
			lv, present := l[k]
			if !present {
				if isEmpty(dv) {
					continue
				}
				return false
			}
			if !isSubset(dv, lv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return len(d) == 0 && live == nil
		}
		if len(d) != len(l) {
			return false
		}
		for i := range d {
			if !isSubset(d[i], l[i]) {
				return false
			}
		}
		return true
	case nil:
		return true
	default:
		if dn, ok := number(desired); ok {
			ln, ok := number(live)
			return ok && dn == ln
		}
		return equality.Semantic.DeepEqual(desired, live)
	}
}

// mismatchPath returns the path of the first field of desired that is missing or
// different in live (same rules as isSubset), or "" if desired is a subset of live.
// It names fields only, never values, so it is safe to log for Secrets.
func mismatchPath(desired, live any, path string) string {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			if isSubset(desired, live) {
				return ""
			}
			return path
		}
		for _, k := range slices.Sorted(maps.Keys(d)) {
			lv, present := l[k]
			if !present {
				if isEmpty(d[k]) {
					continue
				}
				return path + "." + k
			}
			if p := mismatchPath(d[k], lv, path+"."+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		l, ok := live.([]any)
		if !ok || len(d) != len(l) {
			if isSubset(desired, live) {
				return ""
			}
			return path
		}
		for i := range d {
			if p := mismatchPath(d[i], l[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
		return ""
	default:
		if isSubset(desired, live) {
			return ""
		}
		return path
	}
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	case nil:
		return true
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

// ownedFieldsCovered reports whether every leaf field that manager owns (through
// server-side apply) in live is still present in desired. When it is not, the desired
// state dropped a field we applied before, and a new apply is needed to remove it.
// Objects without managedFields (e.g. from a cache that strips them) are considered
// covered.
func ownedFieldsCovered(live map[string]any, desired map[string]any, manager string) bool {
	md, _ := live["metadata"].(map[string]any)
	mfs, _ := md["managedFields"].([]any)
	for _, e := range mfs {
		mf, _ := e.(map[string]any)
		if mf["manager"] != manager || mf["operation"] != "Apply" || mf["subresource"] != nil && mf["subresource"] != "" {
			continue
		}
		fields, _ := mf["fieldsV1"].(map[string]any)
		if !fieldsCovered(fields, desired) {
			return false
		}
	}
	return true
}

// fieldsCovered walks a FieldsV1 tree ("f:name", "k:{...}", "v:...", "i:N", ".")
// alongside an object.
func fieldsCovered(fields map[string]any, obj any) bool {
	for k, sub := range fields {
		if k == "." {
			continue
		}
		subFields, _ := sub.(map[string]any)
		switch {
		case strings.HasPrefix(k, "f:"):
			m, ok := obj.(map[string]any)
			if !ok {
				return false
			}
			v, present := m[strings.TrimPrefix(k, "f:")]
			if !present {
				return false
			}
			if len(subFields) > 0 && !fieldsCovered(subFields, v) {
				return false
			}
		case strings.HasPrefix(k, "k:"):
			elem, ok := findByKey(obj, strings.TrimPrefix(k, "k:"))
			if !ok {
				return false
			}
			if len(subFields) > 0 && !fieldsCovered(subFields, elem) {
				return false
			}
		case strings.HasPrefix(k, "v:"):
			list, _ := obj.([]any)
			want := strings.TrimPrefix(k, "v:")
			found := false
			for _, e := range list {
				if jsonScalar(e) == want {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		case strings.HasPrefix(k, "i:"):
			list, _ := obj.([]any)
			var i int
			if _, err := fmt.Sscanf(k, "i:%d", &i); err != nil || i >= len(list) {
				return false
			}
			if len(subFields) > 0 && !fieldsCovered(subFields, list[i]) {
				return false
			}
		}
	}
	return true
}

func findByKey(obj any, keyJSON string) (any, bool) {
	list, ok := obj.([]any)
	if !ok {
		return nil, false
	}
	var key map[string]any
	if err := jsonUnmarshal([]byte(keyJSON), &key); err != nil {
		return nil, false
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		match := true
		for kk, kv := range key {
			v, present := m[kk]
			if !present {
				// A key field the server defaulted (e.g. ports[].protocol) is not in
				// the desired element; the other key fields decide.
				continue
			}
			if !isSubset(kv, v) {
				match = false
				break
			}
		}
		if match {
			return e, true
		}
	}
	return nil, false
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func jsonScalar(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// isExact is what ChildSet.Exact checks: live carries no field that desired (as
// applied, with its labels and annotations) does not have. Only the parts the
// default Matches compares are looked at: every top-level field but apiVersion,
// kind, metadata and status, plus metadata.labels and metadata.annotations; other
// metadata (uid, resourceVersion, managedFields, finalizers, ownerReferences...)
// belongs to the API server and other controllers and is ignored. Label and
// annotation keys in the Kubernetes-reserved domains (kubernetes.io, k8s.io, and
// their subdomains) are ignored too. Empty maps and lists in live count as absent.
// Combined with Matches (desired ⊆ live), it makes live equal to desired.
func isExact(desired, live client.Object) bool {
	return extraField(desired, live) == ""
}

// extraField explains why isExact is false: the path of the first field of live
// that desired does not have (e.g. ".data.added"), or "" when there is none. It
// names fields, never values, so it is safe to log for Secrets.
func extraField(desired, live client.Object) string {
	d, err := toUnstructuredMap(desired)
	if err != nil {
		return "desired: " + err.Error()
	}
	l, err := toUnstructuredMap(live)
	if err != nil {
		return "live: " + err.Error()
	}
	d, l = runtime.DeepCopyJSON(d), runtime.DeepCopyJSON(l)
	pruneNulls(d)
	pruneNulls(l)
	dc, lc := comparablePart(d), comparablePart(l)
	dmd, _ := dc["metadata"].(map[string]any)
	lmd, _ := lc["metadata"].(map[string]any)
	for _, f := range []string{"labels", "annotations"} {
		want, _ := dmd[f].(map[string]any)
		got, _ := lmd[f].(map[string]any)
		for k := range got {
			if _, ok := want[k]; !ok && reservedKey(k) {
				delete(got, k)
			}
		}
	}
	return mismatchPath(lc, dc, "")
}

// reservedKey reports whether a label or annotation key is in a domain reserved for
// Kubernetes components (kubernetes.io, k8s.io and their subdomains).
func reservedKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "/")
	if !ok {
		return false
	}
	for _, d := range []string{"kubernetes.io", "k8s.io"} {
		if prefix == d || strings.HasSuffix(prefix, "."+d) {
			return true
		}
	}
	return false
}

// mismatch says why live is not in line with desired, "" when it is: the path of
// the first desired field missing or different in live (e.g. ".data.color"),
// comparing every field of desired (as unstructured, ignoring metadata other than
// labels and annotations) so that fields defaulted by the API server never count;
// or, when live carries managedFields, that a field fieldOwner applied before is no
// longer desired (a new apply is then needed to remove it). It names fields, never
// values, so it is safe to log for Secrets.
func mismatch(desired, live client.Object, fieldOwner string) string {
	d, err := toUnstructuredMap(desired)
	if err != nil {
		return "desired: " + err.Error()
	}
	d = runtime.DeepCopyJSON(d)
	pruneNulls(d)
	l, err := toUnstructuredMap(live)
	if err != nil {
		return "live: " + err.Error()
	}
	if p := mismatchPath(comparablePart(d), l, ""); p != "" {
		return p
	}
	if !ownedFieldsCovered(l, d, fieldOwner) {
		return "a field applied by " + fieldOwner + " is no longer desired"
	}
	return ""
}
