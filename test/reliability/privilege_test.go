package reliability

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// A namespace owner who may only manage Propagations (and read Secrets) in their own
// namespace must not be able to use Courier, which can read every Secret, to read a
// Secret from a namespace that did not consent.
var _ = Describe("security: Courier is no confused deputy", Ordered, func() {
	ctx := context.Background()
	var m *manager
	var alice client.Client
	var own, vault string

	BeforeAll(func() {
		m = startManager()
		own = mkNamespace(ctx, uniq("alice"), nil)
		vault = mkNamespace(ctx, uniq("vault"), nil)
		mkSecret(ctx, vault, "root-creds", func(s *corev1.Secret) { s.Labels["tier"] = "secret" })
		mkSecret(ctx, vault, "shared", withConsent(own))
		Expect(admin.Create(ctx, &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "propagation-user", Namespace: own},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"courier.dev"}, Resources: []string{"propagations"}, Verbs: []string{"create", "get", "list", "watch", "update", "patch", "delete"}},
				{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}},
			},
		})).To(Succeed())
		Expect(admin.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: own},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "propagation-user"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
		})).To(Succeed())
		cfg := rest.CopyConfig(restCfg)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "alice"}
		var err error
		alice, err = client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
	})
	AfterAll(func() { m.kill() })

	It("cannot read the Secret directly, nor create a ClusterPropagation or a Propagation elsewhere", func() {
		var s corev1.Secret
		Expect(apierrors.IsForbidden(alice.Get(ctx, keyOf(vault, "root-creds"), &s))).To(BeTrue())
		err := alice.Create(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("alice")}, Spec: v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(vault, "root-creds")},
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(own)}},
		}})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		err = alice.Create(ctx, &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: "steal", Namespace: vault}, Spec: v1alpha1.PropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(vault, "root-creds")},
		}})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
	})

	It("gets nothing from a Propagation of a non-consenting Secret, by name or by selector", func() {
		byName := &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: "steal-by-name", Namespace: own}, Spec: v1alpha1.PropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(vault, "root-creds")},
		}}
		Expect(alice.Create(ctx, byName)).To(Succeed())
		bySelector := &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: "steal-by-selector", Namespace: own}, Spec: v1alpha1.PropagationSpec{
			Sources:        []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: vault, Selector: &v1alpha1.LabelSelector{}}},
			ConflictPolicy: v1alpha1.ConflictOverwrite,
		}}
		Expect(alice.Create(ctx, bySelector)).To(Succeed())
		figures.badInputs.Add(2)
		Eventually(func() string { return conditionOf(ctx, byName, "Ready") }).Should(ContainSubstring("NotShared"))
		// The selector matches both Secrets; only the consented one may arrive.
		Eventually(func() error { return alice.Get(ctx, keyOf(own, "shared"), &corev1.Secret{}) }).Should(Succeed())
		Consistently(func() bool {
			return apierrors.IsNotFound(alice.Get(ctx, keyOf(own, "root-creds"), &corev1.Secret{}))
		}, "2s").Should(BeTrue(), "a non-consenting Secret was copied into alice's namespace")
		var p v1alpha1.Propagation
		Expect(alice.Get(ctx, client.ObjectKeyFromObject(byName), &p)).To(Succeed())
		Expect(findLeak("status visible to alice", conditionsText(ctx, &p), marker)).To(BeEmpty())
	})
})
