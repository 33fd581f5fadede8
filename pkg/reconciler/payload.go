package reconciler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// What a ChildSet sends: the object of a create, of a replacing update, and the
// labels and hash it stamps on every desired child. Typed children take the fast
// paths of typedfast.go; the unstructured paths serve any child.

// creation builds the object sent by a create: the apply payload (desired without
// server-populated metadata and status) as a fresh object of d's Go type, so d is
// never modified by the response.
func creation[C client.Object](scheme *runtime.Scheme, d C, gvk schema.GroupVersionKind) (C, error) {
	if obj, ok := typedCreation(d); ok {
		return obj, nil
	}
	return unstructuredCreation(scheme, d, gvk)
}

// unstructuredCreation is creation for any child, through its apply payload.
func unstructuredCreation[C client.Object](scheme *runtime.Scheme, d C, gvk schema.GroupVersionKind) (C, error) {
	var zero C
	want, err := applyPayload(d, gvk)
	if err != nil {
		return zero, err
	}
	obj, err := newChild(scheme, d, gvk)
	if err != nil {
		return zero, err
	}
	if err := fromMap(want.Object, obj); err != nil {
		return zero, err
	}
	return obj, nil
}

// replacement builds the object sent by a replacing update: live's lifecycle
// metadata and status, everything else from desired.
func replacement[C client.Object](scheme *runtime.Scheme, d C, gvk schema.GroupVersionKind, live C) (C, error) {
	if obj, ok := typedReplacement(d, live); ok {
		return obj, nil
	}
	return unstructuredReplacement(scheme, d, gvk, live)
}

// unstructuredReplacement is replacement for any child, through unstructured maps.
func unstructuredReplacement[C client.Object](scheme *runtime.Scheme, d C, gvk schema.GroupVersionKind, live C) (C, error) {
	var zero C
	want, err := applyPayload(d, gvk)
	if err != nil {
		return zero, err
	}
	l, err := toUnstructuredMap(live)
	if err != nil {
		return zero, err
	}
	l = runtime.DeepCopyJSON(l)
	out := make(map[string]any, len(want.Object)+2)
	for k, v := range want.Object {
		if k != "metadata" {
			out[k] = v
		}
	}
	if st, ok := l["status"]; ok {
		out["status"] = st
	}
	md, _ := l["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["labels"] = stringMap(withReserved(want.GetLabels(), live.GetLabels()))
	md["annotations"] = stringMap(withReserved(want.GetAnnotations(), live.GetAnnotations()))
	out["metadata"] = md
	obj, err := newChild(scheme, d, gvk)
	if err != nil {
		return zero, err
	}
	if err := fromMap(out, obj); err != nil {
		return zero, err
	}
	return obj, nil
}

// fromMap fills obj (typed or unstructured) from an unstructured map.
func fromMap(m map[string]any, obj client.Object) error {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		gvk := u.GroupVersionKind()
		u.Object = m
		u.SetGroupVersionKind(gvk)
		return nil
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, obj)
}

// newChild returns an empty object of d's Go type for gvk.
func newChild[C client.Object](scheme *runtime.Scheme, d C, gvk schema.GroupVersionKind) (C, error) {
	var zero C
	var fresh client.Object
	if _, ok := any(d).(*unstructured.Unstructured); ok {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		fresh = u
	} else {
		o, err := scheme.New(gvk)
		if err != nil {
			return zero, err
		}
		co, ok := o.(client.Object)
		if !ok {
			return zero, fmt.Errorf("%s is not a client.Object", gvk)
		}
		fresh = co
	}
	c, ok := fresh.(C)
	if !ok {
		return zero, fmt.Errorf("cannot make an empty %T for %s", d, gvk)
	}
	return c, nil
}

// withReserved returns want plus the keys of live in Kubernetes-reserved domains
// that want does not set (nil when empty).
func withReserved(want, live map[string]string) map[string]string {
	out := make(map[string]string, len(want))
	for k, v := range want {
		out[k] = v
	}
	for k, v := range live {
		if _, ok := want[k]; !ok && reservedKey(k) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// stringMap is m as an unstructured value (nil when m is).
func stringMap(m map[string]string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// stampLabels returns a copy of d carrying the ownership labels.
func stampLabels[C client.Object](d C, labels map[string]string) C {
	c := ownCopy(d)
	merged := make(map[string]string, len(labels)+len(c.GetLabels()))
	for k, v := range c.GetLabels() {
		merged[k] = v
	}
	for k, v := range labels {
		merged[k] = v
	}
	c.SetLabels(merged)
	return c
}

// stampHash sets annotation key on d (already a private copy) to a hash of d's
// desired state without that annotation: the JSON of what a create would send
// (typedCreation: encoding/json is deterministic for typed objects and, unlike the
// unstructured converter, fast with []byte fields), or of the apply payload for
// unstructured children.
func stampHash[C client.Object](d C, gvk schema.GroupVersionKind, key string) (C, error) {
	ann := d.GetAnnotations()
	delete(ann, key)
	d.SetAnnotations(ann)
	var payload any
	if tc, ok := typedCreation(d); ok {
		payload = tc
	} else {
		u, err := applyPayload(d, gvk)
		if err != nil {
			return d, err
		}
		payload = u.Object // map keys are sorted: deterministic
	}
	sum, err := jsonHash(payload)
	if err != nil {
		return d, err
	}
	if ann == nil {
		ann = map[string]string{}
	}
	ann[key] = sum
	d.SetAnnotations(ann)
	return d, nil
}

// jsonHash is the hex of the first 16 bytes of the SHA-256 of v's JSON (exactly
// the bytes json.Marshal returns), streamed into the hash: json.Marshal would
// return a copy of the whole encoding, which for a fan-out of a 64 KiB Secret to a
// thousand namespaces was 87 MB of garbage per pass.
func jsonHash(v any) (string, error) {
	h := sha256.New()
	if err := json.NewEncoder(newlineless{h}).Encode(v); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// newlineless drops the newline json.Encoder ends each value with (in the same
// Write as the value), so the bytes written are json.Marshal's.
type newlineless struct{ w io.Writer }

func (n newlineless) Write(p []byte) (int, error) {
	if k := len(p); k > 0 && p[k-1] == '\n' {
		if _, err := n.w.Write(p[:k-1]); err != nil {
			return 0, err
		}
		return k, nil
	}
	return n.w.Write(p)
}
