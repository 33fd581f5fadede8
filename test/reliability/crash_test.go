package reliability

import (
	"context"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// killAt SIGKILLs m once progress() reaches a random point of the operation (or when
// the operation finished first, which is counted as a late kill), restarts the
// manager and returns the new process.
func killAt(m *manager, what string, total int, progress func() int) *manager {
	// Points in the first two thirds: the poll that measures progress is slower
	// than Courier, so later points mostly land after the operation finished.
	point := 1
	if total > 3 {
		point = 1 + rand.IntN(total*2/3)
	}
	var at int
	pollUntil(2*time.Minute, 10*time.Millisecond, func() bool {
		at = progress()
		return at >= point
	})
	m.kill()
	figures.killPoints.Add(1)
	if at >= total {
		figures.lateKills.Add(1)
	}
	GinkgoWriter.Printf("killed %s during %s at %d/%d (target point %d)\n", m.name, what, at, total, point)
	figures.restarts.Add(1)
	return startManager()
}

var _ = Describe("crash anywhere: SIGKILL at random points", Ordered, func() {
	m := sharedManager()
	ctx := context.Background()

	It("loses nothing when killed during a fan-out, a source update and a deletion", func() {
		for cycle := 1; cycle <= cfgs.Kills; cycle++ {
			By("fan-out")
			f := newFanout(ctx, "crash", cfgs.Fanout)
			total := len(f.expected())
			m.manager = killAt(m.manager, "fan-out", total, func() int { return f.progress(ctx) })
			f.expectConverged(ctx)
			uids := f.copyUIDs(ctx)

			By("source update")
			f.updateSources(ctx)
			m.manager = killAt(m.manager, "source update", total, func() int { return f.progress(ctx) })
			f.expectConverged(ctx)
			Expect(f.copyUIDs(ctx)).To(Equal(uids), "copies must be updated in place, never deleted and re-created")

			By("steady state after the restarts: zero writes to copies")
			expectNoCopyWrites(ctx, f)

			By("deletion with deletionPolicy Delete")
			cp := &v1alpha1.ClusterPropagation{}
			Expect(admin.Get(ctx, client.ObjectKey{Name: f.name}, cp)).To(Succeed())
			Expect(cp.Spec.DeletionPolicy).To(Equal(v1alpha1.DeletionDelete))
			Expect(admin.Delete(ctx, cp)).To(Succeed())
			m.manager = killAt(m.manager, "deletion", total, func() int { return total - len(f.copyUIDs(ctx)) })
			f.expectCleanedUp(ctx)
			GinkgoWriter.Printf("crash cycle %d/%d: %d copies, invariants hold\n", cycle, cfgs.Kills, total)
		}
	})
})

// expectNoCopyWrites checks that the copies of f do not change for a while: a
// converged Courier makes zero writes.
func expectNoCopyWrites(ctx context.Context, f *fanout) {
	before := resourceVersions(ctx, f)
	Consistently(func() map[string]string { return resourceVersions(ctx, f) }, 3*time.Second, 300*time.Millisecond).
		Should(Equal(before), "copies were written in steady state")
}

func resourceVersions(ctx context.Context, f *fanout) map[string]string {
	var sl corev1.SecretList
	Expect(admin.List(ctx, &sl, f.ownedBy())).To(Succeed())
	var cl corev1.ConfigMapList
	Expect(admin.List(ctx, &cl, f.ownedBy())).To(Succeed())
	out := map[string]string{}
	for _, s := range sl.Items {
		out["Secret/"+s.Namespace+"/"+s.Name] = s.ResourceVersion
	}
	for _, c := range cl.Items {
		out["ConfigMap/"+c.Namespace+"/"+c.Name] = c.ResourceVersion
	}
	return out
}
