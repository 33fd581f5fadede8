package reconciler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const testDigest = "test/digest"

// cachedAs runs obj through the cache transform, as an informer stores it.
func cachedAs[C client.Object](t *testing.T, obj C) C {
	t.Helper()
	out, err := DigestContent(testDigest)(obj.DeepCopyObject())
	if err != nil {
		t.Fatal(err)
	}
	return out.(C)
}

// inLine is what repair decides for a listed child: matching and exact.
func inLine(d, live client.Object) bool {
	return mismatch(d, live, "courier") == "" && isExact(d, live)
}

func TestDigestedCompare(t *testing.T) {
	desired := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "n", Labels: map[string]string{"l": "1"}, Annotations: map[string]string{"a": "1"}},
		Data:       map[string][]byte{"k": []byte("v"), "o": []byte("o")},
		Type:       corev1.SecretTypeOpaque,
	}
	for _, tc := range []struct {
		name string
		edit func(*corev1.Secret)
		same bool
	}{
		{"unchanged", func(*corev1.Secret) {}, true},
		{"server metadata only", func(s *corev1.Secret) {
			s.ResourceVersion, s.UID, s.Generation = "7", "u", 1
			s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
		}, true},
		{"empty data map where desired has none", nil, true},
		{"a value changed", func(s *corev1.Secret) { s.Data["k"] = []byte("x") }, false},
		{"a key added", func(s *corev1.Secret) { s.Data["added"] = []byte("x") }, false},
		{"a key removed", func(s *corev1.Secret) { delete(s.Data, "o") }, false},
		{"a key renamed", func(s *corev1.Secret) { s.Data["k2"] = s.Data["k"]; delete(s.Data, "k") }, false},
		{"type changed", func(s *corev1.Secret) { s.Type = corev1.SecretTypeBasicAuth }, false},
		{"made immutable", func(s *corev1.Secret) { s.Immutable = ptr.To(true) }, false},
		{"a label added", func(s *corev1.Secret) { s.Labels["x"] = "1" }, false},
		{"a label changed", func(s *corev1.Secret) { s.Labels["l"] = "2" }, false},
		{"an annotation removed", func(s *corev1.Secret) { delete(s.Annotations, "a") }, false},
		{"a reserved annotation added", func(s *corev1.Secret) { s.Annotations["kubernetes.io/x"] = "1" }, true},
		{"the digest key forged", func(s *corev1.Secret) { s.Annotations[testDigest] = "forged" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, live := desired.DeepCopy(), desired.DeepCopy()
			if tc.edit == nil { // the empty-map case: desired has no data, live an empty map
				d.Data, live.Data = nil, map[string][]byte{}
			} else {
				tc.edit(live)
			}
			want, err := digested(d, testDigest)
			if err != nil {
				t.Fatal(err)
			}
			cached := cachedAs(t, live)
			if cached.Data != nil || cached.Type != "" || cached.Immutable != nil || cached.ManagedFields != nil {
				t.Fatalf("cached copy keeps content or managedFields: %+v", cached)
			}
			if got := inLine(want, cached); got != tc.same {
				t.Fatalf("in line through the cache = %v, want %v (field %q)", got, tc.same, mismatch(want, cached, "courier")+extraField(want, cached))
			}
			// The whole objects agree with the digests.
			if got := inLine(d, live); got != tc.same {
				t.Fatalf("in line read whole = %v, want %v", got, tc.same)
			}
			// desired itself is left as it was.
			if d.Data == nil && tc.edit != nil || d.Annotations[testDigest] != "" {
				t.Fatalf("digested modified desired: %+v", d)
			}
		})
	}
}

func TestDigestContentIdempotent(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Annotations: map[string]string{"a": "1"}}, Data: map[string]string{"k": "v"}}
	once := cachedAs(t, cm)
	twice := cachedAs(t, once)
	if once.Annotations[testDigest] == "" || twice.Annotations[testDigest] != once.Annotations[testDigest] {
		t.Fatalf("digest changed on a second pass: %q then %q", once.Annotations[testDigest], twice.Annotations[testDigest])
	}
	// What the cache keeps is a new object with the metadata, nothing else.
	full := &corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "n", UID: "u", ResourceVersion: "9", Generation: 2,
			Labels: map[string]string{"l": "1"}, Finalizers: []string{"f"}, OwnerReferences: []metav1.OwnerReference{{Name: "o"}},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}},
		Data: map[string][]byte{"k": []byte("v")}}
	kept := cachedAs(t, full)
	want := full.ObjectMeta.DeepCopy()
	want.ManagedFields, want.Annotations = nil, map[string]string{testDigest: kept.Annotations[testDigest]}
	if !reflect.DeepEqual(kept.ObjectMeta, *want) || kept.TypeMeta != full.TypeMeta || kept.Data != nil {
		t.Fatalf("cached as %+v", kept)
	}
	if strings.HasSuffix(once.Annotations[testDigest], foreignDigest) {
		t.Fatalf("a fresh object's digest is marked foreign: %q", once.Annotations[testDigest])
	}
	if cm.Data == nil {
		t.Fatal("the transform's input copy was not the caller's object, yet the caller's changed")
	}
	// Tombstones and other values pass through.
	tomb := toolscache.DeletedFinalStateUnknown{Key: "k"}
	if out, err := DigestContent(testDigest)(tomb); err != nil || out != tomb {
		t.Fatalf("tombstone = %v, %v", out, err)
	}
}

func TestDigestedUnstructured(t *testing.T) {
	obj := func(spec map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Thing",
			"metadata": map[string]any{"name": "t", "labels": map[string]any{"l": "1"}}, "status": map[string]any{"ok": true}}}
		if spec != nil {
			u.Object["spec"] = spec
		}
		return u
	}
	d := obj(map[string]any{"a": "1"})
	want, err := digested(d, testDigest)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Object["metadata"].(map[string]any)["annotations"]; ok {
		t.Fatal("digested modified desired's metadata")
	}
	if _, ok := want.Object["spec"]; ok {
		t.Fatal("digested kept the content")
	}
	for name, tc := range map[string]struct {
		live *unstructured.Unstructured
		same bool
	}{
		"equal": {obj(map[string]any{"a": "1"}), true},
		"status differs": {func() *unstructured.Unstructured {
			u := obj(map[string]any{"a": "1"})
			u.Object["status"] = "x"
			return u
		}(), true},
		"spec differs": {obj(map[string]any{"a": "2"}), false},
		"empty extra list": {func() *unstructured.Unstructured {
			u := obj(map[string]any{"a": "1"})
			u.Object["items"] = []any{}
			return u
		}(), true},
	} {
		got, err := DigestContent(testDigest)(tc.live)
		if err != nil {
			t.Fatal(err)
		}
		if same := inLine(want, got.(*unstructured.Unstructured)); same != tc.same {
			t.Errorf("%s: in line = %v, want %v", name, same, tc.same)
		}
	}
}

// jsonHash hashes exactly json.Marshal's bytes: copy hashes stamped before it
// streamed the encoding are unchanged, so an upgrade rewrites no copy.
func TestJSONHashIsMarshalHash(t *testing.T) {
	for _, v := range []any{&corev1.Secret{Data: map[string][]byte{"k": []byte("<v>\n")}}, map[string]any{"a": "x\n"}, "s"} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		got, err := jsonHash(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := hex.EncodeToString(sum[:16]); got != want {
			t.Errorf("jsonHash(%v) = %s, want %s", v, got, want)
		}
	}
}
