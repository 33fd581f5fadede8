package reliability

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/courier-operator/courier/api/v1alpha1"
)

var _ = Describe("restarts with unchanged inputs", Ordered, func() {
	ctx := context.Background()
	m := sharedManager()
	var f *fanout

	// restart stops the manager (SIGKILL or SIGTERM, alternately) and starts a new one.
	restart := func(i int) {
		if i%2 == 0 {
			m.kill()
		} else {
			m.stop()
		}
		m.manager = startManager()
		figures.restarts.Add(1)
	}

	BeforeAll(func() {
		f = newFanout(ctx, "restart", 5)
		f.expectConverged(ctx)
	})
	AfterAll(func() {
		deleteAndWait(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: objMeta(f.name)})
	})

	It("write nothing: no copy and no status changes", func() {
		copies := resourceVersions(ctx, f)
		var cp v1alpha1.ClusterPropagation
		Expect(admin.Get(ctx, keyOf("", f.name), &cp)).To(Succeed())
		statusRV := cp.ResourceVersion
		for i := 0; i < cfgs.Restarts; i++ {
			restart(i)
			// A new manager reconciles everything on start; give it that time.
			Consistently(func() map[string]string { return resourceVersions(ctx, f) }, "2s").Should(Equal(copies), "restart %d wrote copies", i+1)
		}
		Expect(admin.Get(ctx, keyOf("", f.name), &cp)).To(Succeed())
		Expect(cp.ResourceVersion).To(Equal(statusRV), "the ClusterPropagation (status) was written by a restart")
	})

	It("roll no workload, and a change made while the manager is down rolls exactly once", func() {
		requireRollout(ctx)
		ns := mkNamespace(ctx, uniq("restart-rollout"), nil)
		mkConfigMap(ctx, ns, "input")
		var names []string
		for i := 0; i < 3; i++ {
			names = append(names, mkDeployment(ctx, ns, fmt.Sprintf("web-%d", i), "input").Name)
		}
		hists := map[string]*history{}
		for _, n := range names {
			hists[n] = watchDeployment(ctx, ns, n)
			defer hists[n].stop()
			Eventually(func() string { return deployment(ctx, ns, n).Annotations[annAppliedHash] }).ShouldNot(BeEmpty())
		}
		for i := 0; i < cfgs.Restarts; i++ {
			restart(i)
			Consistently(func() int { return hists[names[i%3]].rollouts() }, "2s").Should(BeZero())
		}
		for _, n := range names {
			Expect(hists[n].rollouts()).To(BeZero(), "%s rolled on a restart: %s", n, hists[n])
		}

		By("a change while the manager is down")
		m.kill()
		bumpConfigMap(ctx, ns, "input")
		m.manager = startManager()
		figures.restarts.Add(1)
		for _, n := range names {
			Eventually(hists[n].rollouts).Should(Equal(1), "%s did not roll for the change made while the manager was down", n)
		}
		restart(1)
		time.Sleep(2 * time.Second)
		for _, n := range names {
			Expect(hists[n].rollouts()).To(Equal(1), "%s rolled twice: %s", n, hists[n])
		}
	})
})
