package propagation

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

var _ = Describe("Propagation (pull with consent)", func() {
	ctx := context.Background()

	pull := func(ns, name string, spec v1alpha1.PropagationSpec) *v1alpha1.Propagation {
		p := &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
		Expect(admin.Create(ctx, p)).To(Succeed())
		return p
	}
	world := func(srcAnnotations map[string]string, pullerLabels map[string]string) (src, puller string, p *v1alpha1.Propagation) {
		src, puller = uniq("shared"), uniq("team")
		mkNamespace(ctx, src, nil)
		mkNamespace(ctx, puller, pullerLabels)
		mkSecret(ctx, src, "registry", map[string]string{".dockerconfigjson": "{}"}, func(s *corev1.Secret) { s.Annotations = srcAnnotations })
		p = pull(puller, "registry", v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef(src, "registry")}})
		return src, puller, p
	}

	It("copies a source shared with the namespace by name glob", func() {
		_, puller, p := world(map[string]string{v1alpha1.AnnotationShareWithNamespaces: "team-*,web"}, nil)
		Eventually(secretData(ctx, puller, "registry")).Should(Equal(map[string]string{".dockerconfigjson": "{}"}))
		c := getSecret(ctx, puller, "registry")
		Expect(c.Labels).To(HaveKeyWithValue(v1alpha1.LabelPropagation, p.Name))
		Expect(c.Annotations).NotTo(HaveKey(v1alpha1.AnnotationShareWithNamespaces))
		Eventually(readyOf(ctx, p)).Should(HavePrefix("True/"))
	})

	It("copies a source shared by namespace selector", func() {
		_, puller, _ := world(map[string]string{v1alpha1.AnnotationShareWithNamespaceSelector: "tier=prod"}, map[string]string{"tier": "prod"})
		Eventually(secretData(ctx, puller, "registry")).ShouldNot(BeNil())
	})

	It("copies nothing without consent and says which annotation is missing", func() {
		_, puller, p := world(nil, nil)
		Eventually(readyOf(ctx, p)).Should(And(HavePrefix("False/"+ReasonNotShared), ContainSubstring(v1alpha1.AnnotationShareWithNamespaces), ContainSubstring(v1alpha1.AnnotationShareWithNamespaceSelector)))
		Consistently(exists(ctx, &corev1.Secret{}, puller, "registry")).Should(BeFalse())
	})

	It("removes the copy when consent is withdrawn or narrowed, even under deletionPolicy Orphan", func() {
		src, puller, p := world(map[string]string{v1alpha1.AnnotationShareWithNamespaces: "team-*"}, map[string]string{"tier": "prod"})
		Eventually(secretData(ctx, puller, "registry")).ShouldNot(BeNil())
		Expect(admin.Patch(ctx, p, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"deletionPolicy":"Orphan"}}`)))).To(Succeed())

		s := getSecret(ctx, src, "registry")
		s.Annotations[v1alpha1.AnnotationShareWithNamespaces] = "web" // narrowed: the team is out
		Expect(admin.Update(ctx, s)).To(Succeed())
		Eventually(exists(ctx, &corev1.Secret{}, puller, "registry")).Should(BeFalse())
		Eventually(readyOf(ctx, p)).Should(HavePrefix("False/" + ReasonNotShared))

		// Consent by selector, then the namespace is relabelled out of it.
		s = getSecret(ctx, src, "registry")
		s.Annotations = map[string]string{v1alpha1.AnnotationShareWithNamespaceSelector: "tier=prod"}
		Expect(admin.Update(ctx, s)).To(Succeed())
		Eventually(secretData(ctx, puller, "registry")).ShouldNot(BeNil())
		var ns corev1.Namespace
		Expect(admin.Get(ctx, client.ObjectKey{Name: puller}, &ns)).To(Succeed())
		ns.Labels["tier"] = "dev"
		Expect(admin.Update(ctx, &ns)).To(Succeed())
		Eventually(exists(ctx, &corev1.Secret{}, puller, "registry")).Should(BeFalse())
	})

	It("never pulls into an excluded namespace", func() {
		src := uniq("shared")
		mkNamespace(ctx, src, nil)
		puller := uniq("restricted")
		mkNamespace(ctx, puller, nil)
		mkSecret(ctx, src, "registry", map[string]string{"k": "v"}, func(s *corev1.Secret) {
			s.Annotations = map[string]string{v1alpha1.AnnotationShareWithNamespaces: "*"}
		})
		p := pull(puller, "registry", v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef(src, "registry")}})
		Eventually(readyOf(ctx, p)).Should(HavePrefix("False/" + ReasonNotShared))
		Consistently(exists(ctx, &corev1.Secret{}, puller, "registry")).Should(BeFalse())
	})

	It("deletes its copy when the Propagation is deleted", func() {
		_, puller, p := world(map[string]string{v1alpha1.AnnotationShareWithNamespaces: "*"}, nil)
		Eventually(secretData(ctx, puller, "registry")).ShouldNot(BeNil())
		Eventually(func() []string { _ = readyOf(ctx, p)(); return p.Finalizers }).Should(ContainElement(v1alpha1.Finalizer))
		deleteAndWait(ctx, p)
		Expect(getSecret(ctx, puller, "registry")).To(BeNil())
	})
})
