package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// writeCounter counts the watch events on the copies of one propagation.
type writeCounter struct {
	mu     sync.Mutex
	counts map[watch.EventType]int
	stop   []func()
}

// countCopyWrites watches the Secrets and ConfigMaps labelled as copies of prop.
func countCopyWrites(ctx context.Context, prop string) *writeCounter {
	w := &writeCounter{counts: map[watch.EventType]int{}}
	// Watch from the current resourceVersion: a watch without one starts with a
	// synthetic ADDED event per existing object, which are not writes.
	opts := metav1.ListOptions{LabelSelector: v1alpha1.LabelClusterPropagation + "=" + prop}
	sl, err := kube.CoreV1().Secrets("").List(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	cl, err := kube.CoreV1().ConfigMaps("").List(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	sOpts, cOpts := opts, opts
	sOpts.ResourceVersion, cOpts.ResourceVersion = sl.ResourceVersion, cl.ResourceVersion
	sw, err := kube.CoreV1().Secrets("").Watch(ctx, sOpts)
	Expect(err).NotTo(HaveOccurred())
	cw, err := kube.CoreV1().ConfigMaps("").Watch(ctx, cOpts)
	Expect(err).NotTo(HaveOccurred())
	for _, wi := range []watch.Interface{sw, cw} {
		w.stop = append(w.stop, wi.Stop)
		go func(wi watch.Interface) {
			for ev := range wi.ResultChan() {
				w.mu.Lock()
				w.counts[ev.Type]++
				w.mu.Unlock()
			}
		}(wi)
	}
	return w
}

// total returns the number of events of the given types so far.
func (w *writeCounter) total(types ...watch.EventType) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, t := range types {
		n += w.counts[t]
	}
	return n
}

func (w *writeCounter) close() {
	for _, s := range w.stop {
		s()
	}
}

var _ = Describe("faults: a concurrent writer fights Courier", Ordered, func() {
	ctx := context.Background()
	sharedManager()

	It("converges, never loops, and makes a bounded number of writes", func() {
		f := newFanout(ctx, "conflict", 10)
		f.expectConverged(ctx)
		counter := countCopyWrites(ctx, f.name)
		defer counter.close()

		By(fmt.Sprintf("editing and deleting copies for %ds", cfgs.WriterSeconds))
		var edits, deletes int
		deadline := time.Now().Add(time.Duration(cfgs.WriterSeconds) * time.Second)
		for time.Now().Before(deadline) {
			ns := f.targets[rand.IntN(len(f.targets))]
			var s corev1.Secret
			if err := admin.Get(ctx, keyOf(ns, "creds"), &s); err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			switch rand.IntN(5) {
			case 0:
				if admin.Delete(ctx, &s) == nil {
					deletes++
				}
			case 1:
				delete(s.Data, "random")
				fallthrough
			default:
				s.Data["marker"] = []byte(randomHex(4))
				if s.Labels == nil {
					s.Labels = map[string]string{}
				}
				s.Labels["writer"] = fmt.Sprint(edits)
				if admin.Update(ctx, &s, client.FieldOwner("reliability-writer")) == nil {
					edits++
				}
			}
			time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
		}
		figures.writerEdits.Add(int64(edits + deletes))

		f.expectConverged(ctx)
		By("quiet: no more writes once the writer stopped")
		settled := counter.total(watch.Added, watch.Modified, watch.Deleted)
		Consistently(func() int { return counter.total(watch.Added, watch.Modified, watch.Deleted) }, "3s").Should(Equal(settled), "Courier keeps writing: a loop")

		// Every writer edit or delete costs Courier at most one repair (no-op applies
		// are not writes: the API server does not store them).
		courierWrites := counter.total(watch.Added, watch.Modified) - edits
		GinkgoWriter.Printf("writer: %d edits, %d deletes; Courier: %d repair writes\n", edits, deletes, courierWrites)
		Expect(courierWrites).To(BeNumerically("<=", edits+deletes), "more repairs than damage: %d writes for %d edits and %d deletes", courierWrites, edits, deletes)
		Expect(courierWrites).To(BeNumerically(">=", deletes), "deleted copies were not all re-created")
	})

	It("removes a data key another writer added to a copy (copies stay byte-identical)", func() {
		f := newFanout(ctx, "extrakey", 2)
		f.expectConverged(ctx)
		var s corev1.Secret
		Expect(admin.Get(ctx, keyOf(f.targets[1], "creds"), &s)).To(Succeed())
		s.Data["injected"] = []byte("not from the source")
		Expect(admin.Update(ctx, &s, client.FieldOwner("reliability-writer"))).To(Succeed())
		figures.writerEdits.Add(1)
		Eventually(func() []string { return sortedKeys(getSecret(ctx, f.targets[1], "creds").Data) }, "20s").
			ShouldNot(ContainElement("injected"), "a data key added to a copy is never removed: the copy is no longer byte-identical to its source")
		f.expectConverged(ctx)
	})

	It("never drops another writer's fields on a workload it rolls", func() {
		requireRollout(ctx)
		ns := mkNamespace(ctx, uniq("conflict-workload"), nil)
		mkConfigMap(ctx, ns, "input")
		mkDeployment(ctx, ns, "web", "input")
		Eventually(func() string { return deployment(ctx, ns, "web").Annotations[annAppliedHash] }).ShouldNot(BeEmpty())

		var last int
		deadline := time.Now().Add(time.Duration(cfgs.WriterSeconds) * time.Second)
		for i := 0; time.Now().Before(deadline); i++ {
			if i%10 == 0 {
				bumpConfigMap(ctx, ns, "input")
			}
			d := deployment(ctx, ns, "web")
			d.Labels["writer"] = fmt.Sprint(i)
			if d.Annotations == nil {
				d.Annotations = map[string]string{}
			}
			d.Annotations["writer/seq"] = fmt.Sprint(i)
			if d.Spec.Template.Annotations == nil {
				d.Spec.Template.Annotations = map[string]string{}
			}
			d.Spec.Template.Annotations["writer/template"] = fmt.Sprint(i)
			d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("registry.example/app:%d", i)
			if admin.Update(ctx, d, client.FieldOwner("reliability-writer")) == nil {
				last = i
				figures.writerEdits.Add(1)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The last ConfigMap change rolls once the coalescing window has passed.
		Eventually(func() map[string]string { return template(ctx, ns, "web").Annotations }).Should(HaveKey(v1alpha1.AnnotationConfigHash))
		Consistently(func(g Gomega) {
			d := deployment(ctx, ns, "web")
			g.Expect(d.Labels).To(HaveKeyWithValue("writer", fmt.Sprint(last)))
			g.Expect(d.Annotations).To(HaveKeyWithValue("writer/seq", fmt.Sprint(last)))
			g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue("writer/template", fmt.Sprint(last)))
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(fmt.Sprintf("registry.example/app:%d", last)))
			g.Expect(d.Spec.Template.Annotations).To(HaveKey(v1alpha1.AnnotationConfigHash))
		}, "5s").Should(Succeed(), "Courier dropped or reverted the other writer's fields")
	})
})
