package rollout

import (
	"context"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/courier-operator/courier/internal/contenthash"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/internal/workloadrefs"
)

func TestIndexInputsHonoursAnnotations(t *testing.T) {
	d := testDeployment("web", envFrom("app"), map[string]string{
		AnnotationExtraRefs:   "secret/extra",
		AnnotationExcludeRefs: "configmap/app",
	})
	got := deployments.indexInputs(d)
	if !reflect.DeepEqual(got, []string{"secret/extra"}) {
		t.Fatalf("index values = %v", got)
	}
	if deployments.indexInputs(&appsv1.StatefulSet{}) != nil {
		t.Fatal("an object of another kind must index nothing")
	}
}

func TestConsumersFindsWorkloadsByInput(t *testing.T) {
	s := courierscheme.New()
	uses := testDeployment("uses", envFrom("app"), nil)
	other := testDeployment("other", envFrom("different"), nil)
	elsewhere := testDeployment("elsewhere", envFrom("app"), nil)
	elsewhere.Namespace = "other-ns"
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(uses, other, elsewhere).
		WithIndex(&appsv1.Deployment{}, inputsIndex, deployments.indexInputs).Build()

	cm := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}}
	reqs := deployments.consumers(c, workloadrefs.ConfigMap)(context.Background(), cm)
	if len(reqs) != 1 || reqs[0].Name != "uses" || reqs[0].Namespace != "ns" {
		t.Fatalf("requests = %v", reqs)
	}
	if reqs := deployments.consumers(c, workloadrefs.Secret)(context.Background(), cm); len(reqs) != 0 {
		t.Fatalf("a Secret named like the ConfigMap must map to nothing: %v", reqs)
	}
}

func TestRolloutReason(t *testing.T) {
	applied := map[string]string{"configmap/a": "111111111111", "configmap/b": contenthash.Absent, "secret/c": "222222222222"}
	cases := []struct {
		now     map[string]string
		changed []string
		want    string
	}{
		{map[string]string{"configmap/a": "333333333333"}, []string{"configmap/a"}, reasonContentChanged},
		{map[string]string{"configmap/b": "444444444444"}, []string{"configmap/b"}, reasonInputCreated},
		{map[string]string{"secret/c": contenthash.Absent}, []string{"secret/c"}, reasonInputDeleted},
		{map[string]string{"configmap/b": "4", "secret/c": contenthash.Absent}, []string{"configmap/b", "secret/c"}, reasonInputCreated},
		{map[string]string{"configmap/a": "3", "configmap/b": "4"}, []string{"configmap/a", "configmap/b"}, reasonContentChanged},
	}
	for _, c := range cases {
		if got := rolloutReason(applied, c.now, c.changed); got != c.want {
			t.Errorf("rolloutReason(%v) = %s, want %s", c.changed, got, c.want)
		}
	}
}
