package reconciler

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
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
