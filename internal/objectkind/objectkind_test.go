package objectkind

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestOfMakesObjectsAndListsOfTheKind(t *testing.T) {
	k := Of(func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items })

	obj := k.New()
	if obj == nil || obj.Name != "" {
		t.Fatalf("New() = %#v, want an empty *Deployment", obj)
	}
	if k.New() == obj {
		t.Fatal("New() returned the same object twice")
	}

	list, ok := k.NewList().(*appsv1.DeploymentList)
	if !ok || len(list.Items) != 0 {
		t.Fatalf("NewList() = %#v, want an empty *DeploymentList", k.NewList())
	}
	list.Items = []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, {ObjectMeta: metav1.ObjectMeta{Name: "b"}}}

	items := k.Items(list)
	if len(items) != 2 || items[0].Name != "a" || items[1].Name != "b" {
		t.Fatalf("Items() = %v, want a and b", items)
	}
	if items[1] != &list.Items[1] {
		t.Fatal("Items() copied an object; it must point into the list")
	}
}

func TestUnstructuredMakesObjectsAndListsOfTheKind(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"}
	k := Unstructured(gvk)

	if got := k.New().GroupVersionKind(); got != gvk {
		t.Fatalf("New() kind = %v, want %v", got, gvk)
	}
	list := k.NewList().(*unstructured.UnstructuredList)
	if got := list.GroupVersionKind(); got.Kind != "RolloutList" || got.GroupVersion() != gvk.GroupVersion() {
		t.Fatalf("NewList() kind = %v, want argoproj.io/v1alpha1 RolloutList", got)
	}
	list.Items = make([]unstructured.Unstructured, 2)
	list.Items[1].SetName("b")
	items := k.Items(list)
	if len(items) != 2 || items[1].GetName() != "b" || items[1] != &list.Items[1] {
		t.Fatalf("Items() = %v, want pointers into the list", items)
	}
}
