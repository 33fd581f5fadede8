package propagation

import (
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/authzpolicy"
	"github.com/courier-operator/courier/test/testenv"
)

// The confused deputy, end to end: the manager runs as its ServiceAccount with its
// real role, users act through impersonation, and the admission policy is installed
// as shipped. A user bound only to the shipped propagation editor role must not make
// Courier overwrite (or delete) a Secret the user may not touch; and where the policy
// is not in force, Courier takes over nothing on anyone's behalf.
var _ = Describe("What a user may not do directly, Courier does not do for them", Ordered, func() {
	var (
		ctx         = context.Background()
		team, src   string
		mallory     client.Client
		victimData  = map[string]string{"password": "original"}
		sharedData  = map[string]string{"password": "attacker-chosen"}
		editorRole  = "courier-propagation-editor-role"
		asMallory   = "mallory"
		overwriting = func(name string, policy v1alpha1.ConflictPolicy) *v1alpha1.Propagation {
			return &v1alpha1.Propagation{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: team},
				Spec: v1alpha1.PropagationSpec{
					Sources:        []v1alpha1.SourceReference{secretRef(src, "shared")},
					Template:       &v1alpha1.CopyTemplate{Name: "app-db"},
					ConflictPolicy: policy,
				},
			}
		}
	)

	BeforeAll(func() {
		team, src = uniq("deputy-team"), uniq("deputy-src")
		mkNamespace(ctx, team, nil)
		mkNamespace(ctx, src, nil)
		mkSecret(ctx, team, "app-db", victimData)
		mkSecret(ctx, src, "shared", sharedData, func(s *corev1.Secret) {
			s.Annotations = map[string]string{v1alpha1.AnnotationShareWithNamespaces: "*"}
		})
		// The shipped editor role, bound in the team namespace only.
		raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "propagation_editor_role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var role rbacv1.ClusterRole
		Expect(yaml.Unmarshal(raw, &role)).To(Succeed())
		role.Name = editorRole
		Expect(client.IgnoreAlreadyExists(admin.Create(ctx, &role))).To(Succeed())
		bindUser(ctx, team, asMallory, editorRole)

		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: asMallory, Groups: []string{"system:authenticated"}}
		mallory, err = client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
	})

	It("refuses at admission what the author may not do, for Overwrite and Adopt alike", func() {
		// What `kubectl auth can-i update secrets -n team --as mallory` says.
		Expect(allowed(ctx, mallory, team, "update")).To(BeFalse())
		Expect(allowed(ctx, mallory, team, "create")).To(BeFalse())
		for _, policy := range []v1alpha1.ConflictPolicy{v1alpha1.ConflictOverwrite, v1alpha1.ConflictAdopt, v1alpha1.ConflictSkip} {
			err := mallory.Create(ctx, overwriting(uniq("steal"), policy))
			Expect(err).To(MatchError(ContainSubstring("mallory may not create secrets in namespace " + team)))
		}
		// With the right to create Secrets (not to update or delete them), only Skip
		// passes: Courier then never touches an object it did not create.
		bindUser(ctx, team, asMallory, grantRole(ctx, "create-secrets", "create"))
		Expect(mallory.Create(ctx, overwriting(uniq("steal"), v1alpha1.ConflictOverwrite))).To(
			MatchError(ContainSubstring("mallory may not update secrets in namespace " + team)))
		Expect(mallory.Create(ctx, overwriting(uniq("steal"), v1alpha1.ConflictAdopt))).To(
			MatchError(ContainSubstring("mallory may not update secrets in namespace " + team)))
		Consistently(secretData(ctx, team, "app-db")).Should(Equal(victimData))
	})

	It("leaves an object it does not manage alone under Skip, and does not delete it with the propagation", func() {
		p := overwriting(uniq("skip"), v1alpha1.ConflictSkip)
		Expect(mallory.Create(ctx, p)).To(Succeed())
		Eventually(readyOf(ctx, p)).Should(HavePrefix("False/" + "ChildConflict"))
		Expect(secretData(ctx, team, "app-db")()).To(Equal(victimData))
		// The user changes their mind: an update is checked against them too.
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
		p.Spec.ConflictPolicy = v1alpha1.ConflictOverwrite
		Expect(mallory.Update(ctx, p)).To(MatchError(ContainSubstring("mallory may not update secrets")))
		deleteAndWait(ctx, p)
		Expect(secretData(ctx, team, "app-db")()).To(Equal(victimData))
	})

	It("takes over nothing while the policy is not in force (fail closed), and does once it is", func() {
		// An audit-only binding denies nothing: even a user's Overwrite would be
		// admitted. Courier must not act on it. (Not a deleted binding: Kubernetes
		// then stops reading the parameter ConfigMap for good, see docs/security.md.)
		var binding admissionregistrationv1.ValidatingAdmissionPolicyBinding
		Expect(admin.Get(ctx, client.ObjectKey{Name: authzpolicy.PolicyName}, &binding)).To(Succeed())
		binding.Spec.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Audit}
		Expect(admin.Update(ctx, &binding)).To(Succeed())
		DeferCleanup(func() { Expect(authzpolicy.Install(ctx, admin, managerNamespace)).To(Succeed()) })
		over := overwriting(uniq("unchecked"), v1alpha1.ConflictOverwrite)
		Expect(admin.Create(ctx, over)).To(Succeed())
		Eventually(readyOf(ctx, over)).Should(And(HavePrefix("False/"+ReasonAdmissionPolicyMissing),
			ContainSubstring("conflictPolicy Overwrite is not applied"), ContainSubstring("does not deny")))
		Consistently(secretData(ctx, team, "app-db")).Should(Equal(victimData))
		deleteAndWait(ctx, over)
		Expect(secretData(ctx, team, "app-db")()).To(Equal(victimData))

		// Adopt would take over an identical object: not while unchecked either.
		mkSecret(ctx, team, "twin", sharedData)
		adopt := overwriting(uniq("adopt"), v1alpha1.ConflictAdopt)
		adopt.Spec.Template.Name = "twin"
		Expect(admin.Create(ctx, adopt)).To(Succeed())
		Eventually(readyOf(ctx, adopt)).Should(HavePrefix("False/" + ReasonAdmissionPolicyMissing))
		twin := getSecret(ctx, team, "twin")
		Expect(twin.Labels).NotTo(HaveKey(v1alpha1.LabelPropagation))

		// The policy back in force: the next reconcile (here triggered by an edit)
		// adopts, as the admitted spec asks.
		Expect(authzpolicy.Install(ctx, admin, managerNamespace)).To(Succeed())
		Eventually(func() string {
			Expect(admin.Get(ctx, client.ObjectKeyFromObject(adopt), adopt)).To(Succeed())
			adopt.Annotations = map[string]string{"poke": uniq("poke")}
			Expect(admin.Update(ctx, adopt)).To(Succeed())
			return readyOf(ctx, adopt)()
		}).WithTimeout(timeout).WithPolling(2 * interval * 10).Should(HavePrefix("True/"))
		Expect(getSecret(ctx, team, "twin").Labels).To(HaveKeyWithValue(v1alpha1.LabelPropagation, adopt.Name))
		deleteAndWait(ctx, adopt)
	})
})

// bindUser binds a ClusterRole to a user in one namespace.
func bindUser(ctx context.Context, ns, user, role string) {
	Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user + "-" + role, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	})).To(Succeed())
}

// grantRole creates a ClusterRole with verbs on Secrets and returns its name.
func grantRole(ctx context.Context, name string, verbs ...string) string {
	Expect(client.IgnoreAlreadyExists(admin.Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: verbs}},
	}))).To(Succeed())
	return name
}

// allowed asks the API server whether c's user may do verb on Secrets in ns.
func allowed(ctx context.Context, c client.Client, ns, verb string) bool {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: "secrets"},
	}}
	Expect(c.Create(ctx, review)).To(Succeed())
	return review.Status.Allowed
}

// listKinds lists kinds in the admission policy's parameter ConfigMap.
func listKinds(ctx context.Context, kinds map[string]string) {
	Expect(testenv.ListKinds(ctx, admin, managerNamespace, kinds)).To(Succeed())
}
