package reliability

import (
	"context"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/test/monitoring"
)

// The shipped alerts and dashboard (config/prometheus, config/grafana) are only as
// good as the names they query: a renamed metric silences an alert without a
// sound. This spec runs Courier through what the alerts and panels watch (a
// fan-out, a rollout) and scrapes it: every name they use must be exported.
var _ = Describe("monitoring: every metric the alerts and the dashboard use", Ordered, func() {
	ctx := context.Background()
	m := sharedManager()

	It("is exported by a running Courier after a fan-out and a rollout", func() {
		names, err := monitoring.ShippedMetricNames(repoRoot)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(ContainElements("courier_propagation_targets", "courier_rollout_waiting_workloads", "workqueue_depth"),
			"the name scan of the alerts and the dashboard found too little: %v", names)
		requireRollout(ctx)

		By("a fan-out to two namespaces")
		id := uniq("monitoring")
		src := mkNamespace(ctx, id+"-src", nil)
		targets := mkNamespaces(ctx, id, 2, map[string]string{"monitoring": id})
		mkSecret(ctx, src, "ca")
		cp := mkCluster(ctx, id, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(src, "ca")},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: matchLabels("monitoring", id)},
		})
		for _, ns := range targets {
			Eventually(func() *corev1.Secret { return getSecret(ctx, ns, "ca") }).ShouldNot(BeNil())
		}

		By("a rollout: a change that waits for the coalescing window, then rolls")
		mkConfigMap(ctx, src, "app-config")
		d := mkDeployment(ctx, src, "app", "app-config")
		Eventually(func() string { return deployment(ctx, src, d.Name).Annotations[annAppliedHash] }).ShouldNot(BeEmpty())
		h := watchDeployment(ctx, src, d.Name)
		defer h.stop()
		bumpConfigMap(ctx, src, "app-config")
		Eventually(h.rollouts).Should(Equal(1), "the Deployment did not roll: %s", h)

		By("scraping")
		var missing []string
		Eventually(func() []string {
			text := m.metrics()
			missing = slices.DeleteFunc(slices.Clone(names), func(n string) bool {
				return strings.Contains(text, "\n"+n+"{") || strings.Contains(text, "\n"+n+" ")
			})
			return missing
		}).Should(BeEmpty(), "the alerts or the dashboard query metrics Courier does not export")
		GinkgoWriter.Printf("all %d metric names of the alerts and the dashboard exported: %v\n", len(names), names)
		deleteAndWait(ctx, cp)
	})
})
