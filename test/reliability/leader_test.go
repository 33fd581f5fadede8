package reliability

import (
	"context"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// leaderArgs are short leases so a hand-over takes seconds; the renew deadline is
// generous enough for a loaded 2-core machine.
var leaderArgs = []string{
	"--leader-elect", "--leader-election-namespace=" + installNamespace,
	"--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=1s",
}

var _ = Describe("faults: leader election hand-over mid fan-out", Ordered, func() {
	ctx := context.Background()
	var a, b *manager

	BeforeAll(func() {
		a = startManager(leaderArgs...)
		b = startManager(leaderArgs...)
	})
	AfterAll(func() {
		a.kill()
		b.kill()
	})

	It("lets the standby take over and converge after the leader is killed", func() {
		Eventually(func() bool { return a.isLeader() || b.isLeader() }).Should(BeTrue(), "no leader elected")
		leader, standby := a, b
		if b.isLeader() {
			leader, standby = b, a
		}
		Expect(standby.isLeader()).To(BeFalse(), "two leaders")

		f := newFanout(ctx, "leader", cfgs.Fanout)
		total := len(f.expected())
		point := 1 + rand.IntN(max(1, total-1))
		pollUntil(time.Minute, 10*time.Millisecond, func() bool { return f.progress(ctx) >= point })
		before := f.copyUIDs(ctx)
		leader.kill()
		figures.leaderKills.Add(1)
		GinkgoWriter.Printf("killed leader %s at %d/%d copies\n", leader.name, len(before), total)

		Eventually(standby.isLeader, 60*time.Second).Should(BeTrue(), "the standby never took over:\n%s", standby.tail(3000))
		f.expectConverged(ctx)
		after := f.copyUIDs(ctx)
		for k, uid := range before {
			Expect(after).To(HaveKeyWithValue(k, uid), "copy %s was re-created after the hand-over", k)
		}
		expectNoCopyWrites(ctx, f)
		deleteAndWait(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: objMeta(f.name)})
		f.expectCleanedUp(ctx)
	})

	It("rolls a workload exactly once for a change made just before the leader dies", func() {
		requireRollout(ctx)
		leader, standby := a, b
		if b.alive() && (!a.alive() || b.isLeader()) {
			leader, standby = b, a
		}
		if !standby.alive() {
			standby = startManager(leaderArgs...)
			DeferCleanup(standby.kill) // not a or b: AfterAll does not know it
			figures.restarts.Add(1)
		}
		ns := mkNamespace(ctx, uniq("leader-rollout"), nil)
		mkConfigMap(ctx, ns, "input")
		mkDeployment(ctx, ns, "web", "input")
		hist := watchDeployment(ctx, ns, "web")
		defer hist.stop()
		Eventually(func() string { return deployment(ctx, ns, "web").Annotations[annAppliedHash] }).ShouldNot(BeEmpty())
		Expect(hist.rollouts()).To(BeZero(), "opting in rolled the workload: %s", hist)
		before := template(ctx, ns, "web")

		bumpConfigMap(ctx, ns, "input")
		time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
		leader.kill()
		figures.leaderKills.Add(1)
		Eventually(standby.isLeader, 60*time.Second).Should(BeTrue())
		Eventually(func() corev1.PodTemplateSpec { return template(ctx, ns, "web") }).ShouldNot(Equal(before))
		Consistently(hist.rollouts, "5s").Should(Equal(1), "rolled more than once: %s", hist)
	})
})
