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
	sharedManager()
	var alice client.Client
	var own, vault string

	BeforeAll(func() {
		own = mkNamespace(ctx, uniq("alice"), nil)
		vault = mkNamespace(ctx, uniq("vault"), nil)
		mkSecret(ctx, vault, "root-creds", func(s *corev1.Secret) { s.Labels["tier"] = "secret" })
		mkSecret(ctx, vault, "shared", withConsent(own))
		Expect(admin.Create(ctx, &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "propagation-user", Namespace: own},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"courier.dev"}, Resources: []string{"propagations"}, Verbs: []string{"create", "get", "list", "watch", "update", "patch", "delete"}},
				// Every right on Secrets in her own namespace, so the admission policy
				// lets her Propagations through (even Overwrite): consent is what
				// must stop her.
				{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "create", "update", "delete"}},
			},
		})).To(Succeed())
		alice = boundUser(ctx, own, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "propagation-user"},
			rest.ImpersonationConfig{UserName: "alice"})
	})

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

// The reported confused deputy, against the real binary under its ServiceAccount
// token: bob is bound only to the shipped propagation editor role in his namespace
// (he may not update its Secrets); a Secret shared with "*" elsewhere, renamed onto
// bob's existing app-db with conflictPolicy Overwrite, must neither replace app-db's
// data nor, when the Propagation goes, delete it.
var _ = Describe("security: the shipped editor role borrows none of Courier's rights", Ordered, func() {
	ctx := context.Background()
	sharedManager()
	var bob client.Client
	var own, src string

	BeforeAll(func() {
		own = mkNamespace(ctx, uniq("bob"), nil)
		src = mkNamespace(ctx, uniq("shared-src"), nil)
		mkSecret(ctx, own, "app-db")
		mkSecret(ctx, src, "shared", withConsent("*"))
		bob = boundUser(ctx, own, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: namePrefix + "propagation-editor-role"},
			rest.ImpersonationConfig{UserName: "bob", Groups: []string{"system:authenticated"}})
	})

	It("is refused at admission for every conflict policy, and app-db keeps its data", func() {
		before := &corev1.Secret{}
		Expect(admin.Get(ctx, keyOf(own, "app-db"), before)).To(Succeed())
		for _, policy := range []v1alpha1.ConflictPolicy{v1alpha1.ConflictOverwrite, v1alpha1.ConflictAdopt, v1alpha1.ConflictSkip} {
			err := bob.Create(ctx, &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("take"), Namespace: own}, Spec: v1alpha1.PropagationSpec{
				Sources:        []v1alpha1.SourceReference{secretRef(src, "shared")},
				Template:       &v1alpha1.CopyTemplate{Name: "app-db"},
				ConflictPolicy: policy,
			}})
			Expect(err).To(MatchError(ContainSubstring("bob may not create secrets in namespace "+own)), "conflictPolicy %s", policy)
			figures.badInputs.Add(1)
		}
		Consistently(func() map[string][]byte {
			var s corev1.Secret
			Expect(admin.Get(ctx, keyOf(own, "app-db"), &s)).To(Succeed())
			return s.Data
		}, "2s").Should(Equal(before.Data))
	})
})

// boundUser binds the user who in namespace ns to role (a RoleBinding named after
// them) and returns an uncached client acting as who: the suite's admin
// credentials impersonating them, as kubectl --as does.
func boundUser(ctx context.Context, ns string, role rbacv1.RoleRef, who rest.ImpersonationConfig) client.Client {
	Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: who.UserName, Namespace: ns},
		RoleRef:    role,
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: who.UserName}},
	})).To(Succeed())
	cfg := rest.CopyConfig(restCfg)
	cfg.Impersonate = who
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}
