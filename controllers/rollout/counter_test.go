package rollout_test

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/courier-operator/courier/controllers/rollout"
)

// templateCounter counts the pod-template changes of one workload by watching it
// from its creation: every change of its pod template (spec.template, a CronJob's
// spec.jobTemplate.spec.template) is a rollout. (metadata.generation
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
	if _, ok := obj.(*batchv1.CronJob); ok {
		return countChanges(obj, "spec", "jobTemplate", "spec", "template")
	}
	return countChanges(obj, "spec", "template")
}

// countChanges counts the changes of one field of a workload just created (as
// countTemplateChanges does for its pod template).
func countChanges(obj client.Object, path ...string) *templateCounter {
	GinkgoHelper()
	created, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	c := &templateCounter{}
	c.prev, _, _ = unstructured.NestedFieldNoCopy(created, path...)
	watchModified(obj, obj.GetResourceVersion(), func(u *unstructured.Unstructured) {
		tmpl, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
		c.mu.Lock()
		defer c.mu.Unlock()
		if !equality.Semantic.DeepEqual(c.prev, tmpl) {
			c.n++
			c.prev = tmpl
		}
	})
	return c
}

// count returns the number of template changes seen so far.
func (c *templateCounter) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// managerWrites counts the writes Courier's rollout field manager makes to one
// workload, from a watch: a write is a Modified event whose managedFields show the
// manager's entry at a newer time than before.
type managerWrites struct{ n atomic.Int64 }

func (m *managerWrites) count() int64 { return m.n.Load() }

func countManagerWrites(obj client.Object) *managerWrites {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	Expect(err).NotTo(HaveOccurred())
	var cur unstructured.Unstructured
	cur.SetGroupVersionKind(gvk)
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &cur)).To(Succeed())
	m := &managerWrites{}
	last := managerTime(&cur)
	watchModified(obj, cur.GetResourceVersion(), func(u *unstructured.Unstructured) {
		if t := managerTime(u); t.After(last) {
			last = t
			m.n.Add(1)
		}
	})
	return m
}

// watchModified calls each, from one goroutine, for every modification of obj
// after resourceVersion rv, until the spec ends.
func watchModified(obj client.Object, rv string, each func(*unstructured.Unstructured)) {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	Expect(err).NotTo(HaveOccurred())
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	wctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	w, err := watchClient.Watch(wctx, list, client.InNamespace(obj.GetNamespace()),
		&client.ListOptions{Raw: &metav1.ListOptions{FieldSelector: "metadata.name=" + obj.GetName(), ResourceVersion: rv}})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type == watch.Modified {
				each(u)
			}
		}
	}()
}

// managerTime is the time of the rollout field manager's managedFields entry.
func managerTime(u *unstructured.Unstructured) time.Time {
	var t time.Time
	for _, mf := range u.GetManagedFields() {
		if mf.Manager == rollout.FieldManager && mf.Subresource == "" && mf.Time != nil && mf.Time.After(t) {
			t = mf.Time.Time
		}
	}
	return t
}
