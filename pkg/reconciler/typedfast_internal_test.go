package reconciler

import (
	"encoding/json"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// The typed fast paths build the same objects as the unstructured paths they
// replace (applyPayload for creates, the unstructured replacement for updates).
func TestTypedPathsMatchUnstructuredPaths(t *testing.T) {
	gvk := appsv1.SchemeGroupVersion.WithKind("Deployment")
	desired := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", GenerateName: "x-", ResourceVersion: "7", UID: "u-desired",
			Labels: map[string]string{"app": "d"}, Annotations: map[string]string{"a": "1"}, Finalizers: []string{"f"}},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{Replicas: 9},
	}
	live := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", ResourceVersion: "42", UID: "u-live", Generation: 3,
			CreationTimestamp: metav1.Unix(1000, 0), Finalizers: []string{"other"},
			Labels:      map[string]string{"app": "old", "added": "by-hand", "kubernetes.io/reserved": "kept"},
			Annotations: map[string]string{"a": "0", "deployment.kubernetes.io/revision": "4"}},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Paused: true},
		Status: appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1},
	}
	scheme := runtime.NewScheme()
	_ = appsv1.AddToScheme(scheme)

	created, ok := typedCreation(desired)
	if !ok {
		t.Fatal("typed creation refused a typed object")
	}
	slow, err := unstructuredCreation(scheme, desired, gvk)
	if err != nil {
		t.Fatal(err)
	}
	slow.TypeMeta = metav1.TypeMeta{}
	if !reflect.DeepEqual(created, slow) {
		t.Errorf("creation:\n typed %+v\n slow  %+v", created, slow)
	}

	replaced, ok := typedReplacement(desired, live)
	if !ok {
		t.Fatal("typed replacement refused a typed object")
	}
	slowReplaced, err := unstructuredReplacement(scheme, desired, gvk, live)
	if err != nil {
		t.Fatal(err)
	}
	slowReplaced.TypeMeta = metav1.TypeMeta{}
	if !reflect.DeepEqual(replaced, slowReplaced) {
		t.Errorf("replacement:\n typed %+v\n slow  %+v", replaced, slowReplaced)
	}
	if replaced.Status.ReadyReplicas != 1 || *replaced.Spec.Replicas != 2 || replaced.ResourceVersion != "42" ||
		replaced.Labels["kubernetes.io/reserved"] != "kept" || replaced.Labels["added"] != "" {
		t.Errorf("replacement = %+v", replaced)
	}
	if desired.ResourceVersion != "7" || live.Labels["added"] != "by-hand" {
		t.Error("the fast paths modified their inputs")
	}
}

// A light copy of a Secret shares its payload but nothing a write or a decode
// changes; anything with nested structs is deep-copied instead.
func TestLightCopy(t *testing.T) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Labels: map[string]string{"l": "1"}},
		Data: map[string][]byte{"k": []byte("payload")}, Immutable: ptr.To(false), Type: corev1.SecretTypeOpaque}
	c, ok := lightCopy(s)
	if !ok {
		t.Fatal("a Secret was not light-copied")
	}
	if &c.Data["k"][0] != &s.Data["k"][0] {
		t.Fatal("the payload was copied")
	}
	if !reflect.DeepEqual(c, s) {
		t.Fatalf("copy differs: %+v", c)
	}
	// What a decode of a response into the copy does: new map entries, pointer
	// targets and metadata; none of it may reach the original.
	if err := json.Unmarshal([]byte(`{"metadata":{"labels":{"l":"2"}},"data":{"new":"eA=="},"immutable":true}`), c); err != nil {
		t.Fatal(err)
	}
	*c.Immutable = true
	if _, leaked := s.Data["new"]; leaked || *s.Immutable || s.Labels["l"] != "1" {
		t.Fatalf("the original changed: %+v", s)
	}
	if _, ok := lightCopy(&appsv1.Deployment{}); ok {
		t.Fatal("a Deployment (nested structs and slices) was light-copied")
	}
	if d := ownCopy(&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}); *d.Spec.Replicas != 2 {
		t.Fatal("ownCopy did not fall back to a deep copy")
	}
}
