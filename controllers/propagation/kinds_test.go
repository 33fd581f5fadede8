package propagation

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("kinds other than Secret and ConfigMap", func() {
	ctx := context.Background()

	It("reports Forbidden without the RBAC grant and propagates once it is granted", func() {
		f := newFixture(ctx, 2)
		Expect(admin.Create(ctx, &corev1.LimitRange{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: f.srcNS, Labels: map[string]string{"app.kubernetes.io/managed-by": "Helm"}},
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type:           corev1.LimitTypeContainer,
				DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
			}}},
		})).To(Succeed())
		mkSecret(ctx, f.srcNS, "creds", map[string]string{"k": "v"})
		listKinds(ctx, map[string]string{"LimitRange": "limitranges"})
		p := mkCluster(ctx, uniq("limits"), f.spec(named("v1", "LimitRange", f.srcNS, "defaults"), secretRef(f.srcNS, "creds")))

		Eventually(readyOf(ctx, p)).Should(And(
			HavePrefix("False/"+ReasonForbidden),
			ContainSubstring("list"), ContainSubstring("limitranges"), ContainSubstring(`group ""`)))
		// Secrets of the same propagation are not held back by the forbidden kind.
		Eventually(secretData(ctx, f.targets[0], "creds")).ShouldNot(BeNil())
		Expect(exists(ctx, &corev1.LimitRange{}, f.targets[0], "defaults")()).To(BeFalse())

		// The grant an admin adds (see config/rbac/extra-kinds-example.yaml).
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: uniq("courier-extra-limitranges"), Labels: map[string]string{"courier.dev/aggregate-to-manager": "true"}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"limitranges"},
				Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}}},
		}
		Expect(admin.Create(ctx, role)).To(Succeed())
		bindToManager(ctx, role.Name) // envtest runs no aggregation controller: bind directly
		// Touch the propagation rather than wait a minute for the Forbidden retry.
		Expect(admin.Patch(ctx, p, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"poke":"1"}}}`)))).To(Succeed())

		for _, ns := range f.targets {
			Eventually(exists(ctx, &corev1.LimitRange{}, ns, "defaults")).Should(BeTrue())
			var lr corev1.LimitRange
			Expect(exists(ctx, &lr, ns, "defaults")()).To(BeTrue())
			Expect(lr.Labels).To(Equal(copyOf(p.Name)))
			Expect(lr.Spec.Limits[0].DefaultRequest.Cpu().String()).To(Equal("100m"))
		}
		Eventually(readyOf(ctx, p)).Should(HavePrefix("True/"))

		// A copy deleted by hand comes back (on-demand metadata watch of the kind).
		var lr corev1.LimitRange
		Expect(exists(ctx, &lr, f.targets[0], "defaults")()).To(BeTrue())
		Expect(admin.Delete(ctx, &lr)).To(Succeed())
		Eventually(exists(ctx, &corev1.LimitRange{}, f.targets[0], "defaults")).Should(BeTrue())

		// Deleting the propagation cleans up copies of the extra kind too.
		deleteAndWait(ctx, p)
		for _, ns := range f.targets {
			Expect(exists(ctx, &corev1.LimitRange{}, ns, "defaults")()).To(BeFalse())
		}
	})

	It("rejects a cluster-scoped kind with a Stalled condition", func() {
		f := newFixture(ctx, 1)
		// An administrator listed a cluster-scoped kind for the admission policy by
		// mistake: Courier still refuses it.
		listKinds(ctx, map[string]string{"ClusterRole.rbac.authorization.k8s.io": "clusterroles"})
		p := mkCluster(ctx, uniq("clusterkind"), f.spec(named("rbac.authorization.k8s.io/v1", "ClusterRole", f.srcNS, "admin")))
		Eventually(readyOf(ctx, p)).Should(HavePrefix("False/ClusterScopedKind"))
		Eventually(func() bool {
			_ = readyOf(ctx, p)()
			for _, c := range p.Status.Conditions {
				if c.Type == "Stalled" && c.Status == metav1.ConditionTrue {
					return true
				}
			}
			return false
		}).Should(BeTrue())
	})
})
