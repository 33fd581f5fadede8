package reliability

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

var _ = Describe("security: no Secret data in logs, events, metrics or status", Ordered, func() {
	ctx := context.Background()
	m := sharedManager()
	// secret is this spec's own marker, in data, in the kubectl last-applied
	// annotation (which holds the data too) and in an object Courier must not touch.
	secret := "s3cr3t-" + randomHex(12)

	It("emits nothing that contains the data of the Secrets it handles", func() {
		id := uniq("leak")
		src := mkNamespace(ctx, id+"-src", nil)
		targets := mkNamespaces(ctx, id, 3, map[string]string{"leak": id})
		withSecret := func(s *corev1.Secret) {
			s.Data["password"] = []byte("pw-" + secret)
			s.Annotations[lastApplied] = `{"data":{"password":"` + secret + `"}}`
		}
		mkSecret(ctx, src, "db", withSecret)
		mkSecret(ctx, src, "shared", withSecret, withConsent(id+"-*"))
		mkSecret(ctx, src, "private", withSecret)
		mkSecret(ctx, src, "fat", withSecret, func(s *corev1.Secret) {
			// At the annotation size limit: the copy (which adds Courier's
			// annotations) is rejected by the API server, and that failure is reported.
			s.Annotations = map[string]string{"fat": strings.Repeat("m", 256*1024-len("fat")-8)}
		})
		// An unmanaged object with a copy's name, holding the secret: a conflict.
		mkSecret(ctx, targets[0], "db", withSecret)

		By("a fan-out with a conflict and a failing copy")
		cp := mkCluster(ctx, id, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(src, "db"), secretRef(src, "fat")},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: matchLabels("leak", id)},
		})
		By("a consented pull and a refused pull")
		okPull := mkPull(ctx, targets[1], "pull", v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef(src, "shared")}})
		refused := mkPull(ctx, targets[2], "pull", v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef(src, "private")}})
		Eventually(func() *corev1.Secret { return getSecret(ctx, targets[2], "db") }).ShouldNot(BeNil())
		Eventually(func() *corev1.Secret { return getSecret(ctx, targets[1], "shared") }).ShouldNot(BeNil())
		Eventually(func() string { return conditionOf(ctx, refused, "Ready") }).Should(ContainSubstring("NotShared"))
		Eventually(func() string { return conditionsText(ctx, cp) }).Should(ContainSubstring("Unmanaged"))

		By("an update of the data, then deletion")
		var s corev1.Secret
		Expect(admin.Get(ctx, keyOf(src, "db"), &s)).To(Succeed())
		s.Data["password"] = []byte("pw2-" + secret)
		Expect(admin.Update(ctx, &s)).To(Succeed())
		Eventually(func() string { return dataOf(ctx, targets[1], "db", "password") }).Should(Equal("pw2-" + secret))
		metrics := m.metrics()
		Expect(metrics).To(ContainSubstring("courier_"), "the metrics endpoint answered nothing useful")
		deleteAndWait(ctx, okPull)
		deleteAndWait(ctx, refused)
		deleteAndWait(ctx, cp)

		By("scanning")
		scanned := map[string]string{"debug log of " + m.name: m.log(), "metrics": metrics}
		for k, v := range emitted(ctx) {
			scanned[k] = v
		}
		for what, text := range scanned {
			Expect(findLeak(what, text, secret)).To(BeEmpty())
			Expect(findLeak(what, text, marker)).To(BeEmpty())
		}
		Expect(m.log()).To(ContainSubstring(`"level":"debug"`), "the scan must cover debug logs")
	})
})
