package reliability

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/test/testenv"
)

// Hostile specs and objects that admission cannot see through: Courier must refuse
// them with a condition that says why, and copy nothing.

// conditionsText renders every condition of a propagation, for matching.
func conditionsText(ctx context.Context, obj client.Object) string {
	if err := admin.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return "error: " + err.Error()
	}
	var st v1alpha1.PropagationStatus
	switch p := obj.(type) {
	case *v1alpha1.ClusterPropagation:
		st = p.Status
	case *v1alpha1.Propagation:
		st = p.Status
	}
	var b strings.Builder
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, "%s=%s/%s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, f := range st.Failures {
		fmt.Fprintf(&b, "failure %s/%s %s: %s\n", f.Namespace, f.Name, f.Reason, f.Message)
	}
	return b.String()
}

// copiesOf counts Secrets and ConfigMaps labelled as copies of a propagation. It
// filters client-side: a propagation name longer than a label value cannot be put
// in a label selector (nor on a copy).
func copiesOf(ctx context.Context, obj client.Object) int {
	label := v1alpha1.LabelClusterPropagation
	var opts []client.ListOption
	if obj.GetNamespace() != "" {
		label = v1alpha1.LabelPropagation
		opts = append(opts, client.InNamespace(obj.GetNamespace()))
	}
	opts = append(opts, client.HasLabels{label})
	n := 0
	var sl corev1.SecretList
	Expect(admin.List(ctx, &sl, opts...)).To(Succeed())
	for _, s := range sl.Items {
		if s.Labels[label] == obj.GetName() {
			n++
		}
	}
	var cl corev1.ConfigMapList
	Expect(admin.List(ctx, &cl, opts...)).To(Succeed())
	for _, c := range cl.Items {
		if c.Labels[label] == obj.GetName() {
			n++
		}
	}
	return n
}

// expectRefused waits for a condition containing every want string, then checks
// for a while that the propagation made no copy.
func expectRefused(ctx context.Context, obj client.Object, want ...string) {
	figures.badInputs.Add(1)
	Eventually(func(g Gomega) {
		text := conditionsText(ctx, obj)
		for _, w := range want {
			g.Expect(text).To(ContainSubstring(w))
		}
	}).Should(Succeed())
	Consistently(func() int { return copiesOf(ctx, obj) }, "1s").Should(BeZero(), "a refused propagation made copies")
}

var _ = Describe("bad input: hostile specs and objects are refused at run time", Ordered, func() {
	ctx := context.Background()
	sharedManager()
	var src, tgt string
	var created []client.Object

	cluster := func(spec v1alpha1.ClusterPropagationSpec) *v1alpha1.ClusterPropagation {
		p := mkCluster(ctx, uniq("hostile"), spec)
		created = append(created, p)
		return p
	}
	pull := func(ns string, spec v1alpha1.PropagationSpec) *v1alpha1.Propagation {
		p := mkPull(ctx, ns, uniq("hostile"), spec)
		created = append(created, p)
		return p
	}
	toTarget := func(refs ...v1alpha1.SourceReference) v1alpha1.ClusterPropagationSpec {
		return v1alpha1.ClusterPropagationSpec{Sources: refs, Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(tgt)}}}
	}

	BeforeAll(func() {
		src = mkNamespace(ctx, uniq("hostile-src"), nil)
		tgt = mkNamespace(ctx, uniq("hostile-tgt"), nil)
		// The admission policy refuses kinds an administrator did not list
		// (internal/authzpolicy): list these, as a careless administrator might, so the
		// manager's own refusals are tried too.
		Expect(testenv.ListKinds(ctx, admin, installNamespace, map[string]string{
			"Namespace": "namespaces", "ClusterRole.rbac.authorization.k8s.io": "clusterroles",
			"Widget.example.com": "widgets", "LimitRange": "limitranges",
		})).To(Succeed())
	})
	AfterAll(func() {
		for _, o := range created {
			deleteAndWait(ctx, o)
		}
	})

	It("refuses a cluster-scoped kind (Namespace)", func() {
		expectRefused(ctx, cluster(toTarget(v1alpha1.SourceReference{APIVersion: "v1", Kind: "Namespace", Namespace: src, Name: "default"})), "ClusterScopedKind")
	})
	It("refuses a cluster-scoped kind (ClusterRole cluster-admin)", func() {
		expectRefused(ctx, cluster(toTarget(v1alpha1.SourceReference{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Namespace: src, Name: "cluster-admin"})), "ClusterScopedKind")
	})
	It("reports a kind the API server does not serve", func() {
		expectRefused(ctx, cluster(toTarget(v1alpha1.SourceReference{APIVersion: "example.com/v1", Kind: "Widget", Namespace: src, Name: "w"})), "UnknownKind")
	})
	It("reports a kind Courier has no RBAC for (LimitRange) and names the missing verbs", func() {
		expectRefused(ctx, cluster(toTarget(v1alpha1.SourceReference{APIVersion: "v1", Kind: "LimitRange", Namespace: src, Name: "limits"})), "Forbidden", "limitranges")
	})
	It("reports a source that does not exist", func() {
		expectRefused(ctx, cluster(toTarget(secretRef(src, "missing"))), "SourceNotFound")
	})
	It("reports a source in a namespace that does not exist", func() {
		expectRefused(ctx, cluster(toTarget(secretRef("no-such-namespace", "creds"))), "SourceNotFound")
	})
	It("refuses a service-account token Secret", func() {
		mkSecret(ctx, src, "token", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeServiceAccountToken
			s.Annotations[corev1.ServiceAccountNameKey] = "default"
		})
		expectRefused(ctx, cluster(toTarget(secretRef(src, "token"))), "SourceRefused", "service-account-token")
	})
	It("refuses a Helm release Secret (by type)", func() {
		mkSecret(ctx, src, "sh.helm.release.v1.app.v1", func(s *corev1.Secret) { s.Type = "helm.sh/release.v1" })
		expectRefused(ctx, cluster(toTarget(secretRef(src, "sh.helm.release.v1.app.v1"))), "SourceRefused", "Helm")
	})
	It("refuses a Helm release Secret (by owner=helm label)", func() {
		mkSecret(ctx, src, "helm-labelled", func(s *corev1.Secret) { s.Labels["owner"] = "helm" })
		expectRefused(ctx, cluster(toTarget(secretRef(src, "helm-labelled"))), "SourceRefused", "Helm")
	})
	It("skips token Secrets a selector matches, and copies the rest", func() {
		figures.badInputs.Add(1)
		sel := uniq("sel")
		mkSecret(ctx, src, sel+"-token", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeServiceAccountToken
			s.Annotations[corev1.ServiceAccountNameKey] = "default"
			s.Labels["pick"] = sel
		})
		mkSecret(ctx, src, sel+"-plain", func(s *corev1.Secret) { s.Labels["pick"] = sel })
		p := cluster(toTarget(v1alpha1.SourceReference{APIVersion: "v1", Kind: "Secret", Namespace: src, Selector: matchLabels("pick", sel)}))
		Eventually(func() *corev1.Secret { return getSecret(ctx, tgt, sel+"-plain") }).ShouldNot(BeNil())
		Consistently(func() int { return copiesOf(ctx, p) }, "1s").Should(Equal(1))
		Expect(getSecret(ctx, tgt, sel+"-token")).To(BeNil())
	})
	It("refuses a managed copy as a source", func() {
		orig := uniq("orig")
		mkSecret(ctx, src, orig)
		cluster(toTarget(secretRef(src, orig)))
		Eventually(func() *corev1.Secret { return getSecret(ctx, tgt, orig) }).ShouldNot(BeNil())
		third := mkNamespace(ctx, uniq("hostile-third"), nil)
		expectRefused(ctx, mkClusterTracked(ctx, &created, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(tgt, orig)},
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(third)}},
		}), "SourceIsCopy")
		Expect(getSecret(ctx, third, orig)).To(BeNil())
	})
	It("breaks a cycle between two propagations (A: src→tgt, B: tgt→src)", func() {
		name := uniq("loop")
		before := mkSecret(ctx, src, name)
		cluster(toTarget(secretRef(src, name)))
		Eventually(func() *corev1.Secret { return getSecret(ctx, tgt, name) }).ShouldNot(BeNil())
		back := mkClusterTracked(ctx, &created, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(tgt, name)},
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(src)}},
		})
		expectRefused(ctx, back, "SourceIsCopy")
		Expect(getSecret(ctx, src, name).ResourceVersion).To(Equal(before.ResourceVersion), "the original source was touched")
	})
	It("never targets the source's own namespace, even when a glob names it and the copy is renamed onto the source", func() {
		figures.badInputs.Add(1)
		name := uniq("self")
		before := mkSecret(ctx, src, name)
		p := mkClusterTracked(ctx, &created, v1alpha1.ClusterPropagationSpec{
			Sources:        []v1alpha1.SourceReference{secretRef(src, name)},
			Targets:        v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(src)}},
			Template:       &v1alpha1.CopyTemplate{Name: name},
			ConflictPolicy: v1alpha1.ConflictOverwrite,
		})
		Eventually(func() int64 { return observedGeneration(ctx, p) }).Should(Equal(p.Generation))
		Consistently(func() string { return getSecret(ctx, src, name).ResourceVersion }, "1s").Should(Equal(before.ResourceVersion))
		Expect(copiesOf(ctx, p)).To(BeZero())
	})
	It("refuses a Propagation whose source is in its own namespace (the copy would collide with the source)", func() {
		name := uniq("same")
		before := mkSecret(ctx, tgt, name, withConsent("*"))
		expectRefused(ctx, pull(tgt, v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef(tgt, name)}, ConflictPolicy: v1alpha1.ConflictOverwrite}), "SameNamespace")
		Expect(getSecret(ctx, tgt, name).ResourceVersion).To(Equal(before.ResourceVersion))
	})
	It("reports a rename onto an unmanaged object as a conflict and leaves the object alone", func() {
		figures.badInputs.Add(1)
		name := uniq("srcobj")
		mkSecret(ctx, src, name)
		victim := mkSecret(ctx, tgt, uniq("victim"))
		spec := toTarget(secretRef(src, name))
		spec.Template = &v1alpha1.CopyTemplate{Name: victim.Name}
		p := cluster(spec)
		Eventually(func() string { return conditionsText(ctx, p) }).Should(ContainSubstring("Unmanaged"))
		Expect(getSecret(ctx, tgt, victim.Name).ResourceVersion).To(Equal(victim.ResourceVersion))
	})
	It("never takes over another propagation's copy, even with conflictPolicy Overwrite", func() {
		figures.badInputs.Add(1)
		name := uniq("owned")
		mkSecret(ctx, src, name)
		first := cluster(toTarget(secretRef(src, name)))
		Eventually(func() *corev1.Secret { return getSecret(ctx, tgt, name) }).ShouldNot(BeNil())
		owned := getSecret(ctx, tgt, name)
		other := uniq("other")
		mkSecret(ctx, src, other)
		spec := toTarget(secretRef(src, other))
		spec.Template = &v1alpha1.CopyTemplate{Name: name}
		spec.ConflictPolicy = v1alpha1.ConflictOverwrite
		thief := cluster(spec)
		Eventually(func() string { return conditionsText(ctx, thief) }).Should(ContainSubstring("Conflict"))
		Consistently(func() string { return getSecret(ctx, tgt, name).Labels[v1alpha1.LabelClusterPropagation] }, "1s").Should(Equal(first.Name))
		Expect(getSecret(ctx, tgt, name).ResourceVersion).To(Equal(owned.ResourceVersion))
	})
	DescribeTable("refuses a pull when the consent annotation is malformed, naming the annotation",
		func(names, selector string, want string) {
			name := uniq("consent")
			mkSecret(ctx, src, name, func(s *corev1.Secret) {
				if names != "-" {
					s.Annotations[v1alpha1.AnnotationShareWithNamespaces] = names
				}
				if selector != "-" {
					s.Annotations[v1alpha1.AnnotationShareWithNamespaceSelector] = selector
				}
			})
			expectRefused(ctx, pull(tgt, v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{secretRef(src, name)}}), "NotShared", want)
		},
		Entry("empty pattern list", " , ,", "-", v1alpha1.AnnotationShareWithNamespaces),
		Entry("empty selector", "-", "  ", v1alpha1.AnnotationShareWithNamespaceSelector),
		Entry("unterminated set selector", "-", "tier in (prod", v1alpha1.AnnotationShareWithNamespaceSelector),
		Entry("selector with a bad operator", "-", "tier=~prod", v1alpha1.AnnotationShareWithNamespaceSelector),
		Entry("valid names but a malformed selector", "*", "tier in (", v1alpha1.AnnotationShareWithNamespaceSelector),
	)
	It("copies a Secret near the 1 MiB size limit byte for byte", func() {
		figures.badInputs.Add(1)
		name := uniq("huge")
		big := []byte(strings.Repeat("0123456789abcdef", 1000*1024/16))
		mkSecret(ctx, src, name, func(s *corev1.Secret) { s.Data["big"] = big })
		cluster(toTarget(secretRef(src, name)))
		Eventually(func() []byte {
			if c := getSecret(ctx, tgt, name); c != nil {
				return c.Data["big"]
			}
			return nil
		}).Should(Equal(big))
		figures.copiesVerified.Add(1)
	})
	It("reports a copy the API server rejects (source annotations at the 256 KiB limit) without leaking data", func() {
		name := uniq("fat")
		mkSecret(ctx, src, name, func(s *corev1.Secret) {
			s.Annotations = map[string]string{"fat": strings.Repeat("m", 256*1024-len("fat")-8)}
		})
		p := cluster(toTarget(secretRef(src, name)))
		expectRefused(ctx, p, "failure "+tgt+"/"+name)
		Expect(conditionsText(ctx, p)).NotTo(ContainSubstring(strings.Repeat("m", 64)))
	})
	It("reports, or refuses, a ClusterPropagation name too long for the copy label", func() {
		figures.badInputs.Add(1)
		name := uniq(strings.Repeat("n", 90))
		mkSecret(ctx, src, "long-owner")
		p := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: toTarget(secretRef(src, "long-owner"))}
		if err := admin.Create(ctx, p); err != nil {
			Expect(err.Error()).To(ContainSubstring("name"))
			return
		}
		created = append(created, p)
		Eventually(func() string { return conditionsText(ctx, p) }).Should(MatchRegexp(`Ready=False/\w+: .*`),
			"a propagation whose name cannot be a label value must say so")
		GinkgoWriter.Printf("long name: %s\n", conditionsText(ctx, p))
		Expect(copiesOf(ctx, p)).To(BeZero())
	})
})

// mkClusterTracked creates a ClusterPropagation and records it for cleanup.
func mkClusterTracked(ctx context.Context, created *[]client.Object, spec v1alpha1.ClusterPropagationSpec) *v1alpha1.ClusterPropagation {
	p := mkCluster(ctx, uniq("hostile"), spec)
	*created = append(*created, p)
	return p
}

// withConsent shares a source with namespaces matching patterns.
func withConsent(patterns string) func(*corev1.Secret) {
	return func(s *corev1.Secret) { s.Annotations[v1alpha1.AnnotationShareWithNamespaces] = patterns }
}

func observedGeneration(ctx context.Context, obj client.Object) int64 {
	switch p := obj.(type) {
	case *v1alpha1.ClusterPropagation:
		var cur v1alpha1.ClusterPropagation
		if admin.Get(ctx, types.NamespacedName{Name: p.Name}, &cur) == nil {
			return cur.Status.ObservedGeneration
		}
	case *v1alpha1.Propagation:
		var cur v1alpha1.Propagation
		if admin.Get(ctx, client.ObjectKeyFromObject(p), &cur) == nil {
			return cur.Status.ObservedGeneration
		}
	}
	return -1
}
