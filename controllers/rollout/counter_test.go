package rollout_test

import (
	"context"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// templateCounter counts the pod-template changes of one workload by watching it
// from its creation: every change of spec.template is a rollout. (metadata.generation
// cannot be used: a Deployment's generation also grows when its annotations change,
// and Courier's state lives in annotations.)
type templateCounter struct {
	mu   sync.Mutex
	n    int64
	prev any
}

// countTemplateChanges starts counting for a workload just created (obj as returned
// by Create, so its resourceVersion is the starting point and no change is missed).
// The watch ends with the spec.
func countTemplateChanges(obj client.Object) *templateCounter {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	Expect(err).NotTo(HaveOccurred())
	created, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	c := &templateCounter{}
	c.prev, _, _ = unstructured.NestedFieldNoCopy(created, "spec", "template")

	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	wctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	w, err := watchClient.Watch(wctx, list, client.InNamespace(obj.GetNamespace()),
		&client.ListOptions{Raw: &metav1.ListOptions{
			FieldSelector:   "metadata.name=" + obj.GetName(),
			ResourceVersion: obj.GetResourceVersion(),
		}})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if ev.Type != watch.Modified {
				continue
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			tmpl, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "template")
			c.mu.Lock()
			if !equality.Semantic.DeepEqual(c.prev, tmpl) {
				c.n++
				c.prev = tmpl
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// count returns the number of template changes seen so far.
func (c *templateCounter) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
