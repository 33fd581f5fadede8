package propagation

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fromUnstructured builds the same typed copies as the converter it speeds up.
func TestFromUnstructuredMatchesConverter(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "c", Namespace: "ns", Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"x": "y"}}
	cases := []struct {
		typed client.Object
		empty func() client.Object
	}{
		{&corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v\x00\xff"), "empty": {}}},
			func() client.Object { return &corev1.Secret{} }},
		{&corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeTLS}, func() client.Object { return &corev1.Secret{} }},
		{&corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": "v"}, BinaryData: map[string][]byte{"b": {1, 2, 3}}},
			func() client.Object { return &corev1.ConfigMap{} }},
		{&corev1.ConfigMap{ObjectMeta: meta, Immutable: new(bool)}, func() client.Object { return &corev1.ConfigMap{} }},
	}
	for _, c := range cases {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c.typed)
		if err != nil {
			t.Fatal(err)
		}
		want, got := c.empty(), c.empty()
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, want); err != nil {
			t.Fatal(err)
		}
		if err := fromUnstructured(u, got, nil); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fromUnstructured:\n got %+v\nwant %+v", got, want)
		}
	}
	bad := map[string]any{"apiVersion": "v1", "kind": "Secret", "data": map[string]any{"k": "not base64!"}}
	if err := fromUnstructured(bad, &corev1.Secret{}, nil); err == nil {
		t.Error("invalid base64 was accepted")
	}
}

// Copies of one source share its decoded bytes, each in a map of its own.
func TestTypedCopiesShareThePayload(t *testing.T) {
	copyIn := func(ns string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "s", "namespace": ns}, "data": map[string]any{"k": "cGF5bG9hZA=="}}}
	}
	out, err := typedCopies([]*unstructured.Unstructured{copyIn("a"), copyIn("b")}, func() *corev1.Secret { return &corev1.Secret{} })
	if err != nil {
		t.Fatal(err)
	}
	a, b := out[0].Data["k"], out[1].Data["k"]
	if string(a) != "payload" || string(b) != "payload" || &a[0] != &b[0] {
		t.Fatalf("copies do not share one decoded payload: %q %q", a, b)
	}
	out[0].Data["other"] = nil
	if _, ok := out[1].Data["other"]; ok {
		t.Fatal("copies share one data map")
	}
}
