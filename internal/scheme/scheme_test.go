package scheme

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	courierv1alpha1 "github.com/courier-operator/courier/api/v1alpha1"
	courierv1beta1 "github.com/courier-operator/courier/api/v1beta1"
)

func TestNewKnowsBuiltInAndCourierKinds(t *testing.T) {
	s := New()
	for obj, want := range map[runtime.Object]string{
		&corev1.Secret{}:                      "/v1, Kind=Secret",
		&courierv1alpha1.ClusterPropagation{}: "courier.dev/v1alpha1, Kind=ClusterPropagation",
		&courierv1alpha1.PropagationList{}:    "courier.dev/v1alpha1, Kind=PropagationList",
		&courierv1beta1.ClusterPropagation{}:  "courier.dev/v1beta1, Kind=ClusterPropagation",
	} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0].String() != want {
			t.Errorf("ObjectKinds(%T) = %v, %v; want %s", obj, gvks, err, want)
		}
	}
	if New() == s {
		t.Error("New returned the same scheme twice: callers may add kinds to theirs")
	}
}
