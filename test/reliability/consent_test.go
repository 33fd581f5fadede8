package reliability

import (
	"context"
	"fmt"
	"maps"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// consentCase is one row of the consent matrix: the annotations a source carries,
// the consumer namespaces that may pull it, and (for withdrawal) the annotations it
// is changed to afterwards with the namespaces that may pull it then.
type consentCase struct {
	name             string
	ann              map[string]string
	allowed          []string // of "a" (name matches team-*), "b" (label tier=prod), "c" (neither)
	after            map[string]string
	allowedAfter     []string
	orphanOnWithdraw bool // Propagations use deletionPolicy Orphan: withdrawal must still delete
}

const (
	annNames = v1alpha1.AnnotationShareWithNamespaces
	annSel   = v1alpha1.AnnotationShareWithNamespaceSelector
)

var _ = Describe("security: consent matrix for Propagation", Ordered, func() {
	ctx := context.Background()
	var m *manager
	var id, srcNS string
	var nsOf map[string]string // "a"/"b"/"c" → namespace

	cases := func() []consentCase {
		team := id + "-team-*"
		return []consentCase{
			{name: "missing", ann: nil},
			{name: "glob", ann: map[string]string{annNames: team}, allowed: []string{"a"}},
			{name: "selector", ann: map[string]string{annSel: "tier=prod"}, allowed: []string{"b"}},
			{name: "both", ann: map[string]string{annNames: id + "-other", annSel: "tier in (prod)"}, allowed: []string{"b", "c"}},
			{name: "nonmatching", ann: map[string]string{annNames: id + "-nomatch-*,web", annSel: "tier=qa"}},
			{name: "malformed-names", ann: map[string]string{annNames: " , "}},
			{name: "malformed-selector", ann: map[string]string{annNames: team, annSel: "tier in ("}},
			{name: "wrong-key", ann: map[string]string{"courier.dev/share-with-namespace": "*", "share-with-namespaces": "*"}},
			{name: "withdrawn", ann: map[string]string{annNames: id + "-*"}, allowed: []string{"a", "b", "c"}, after: map[string]string{}},
			{name: "narrowed", ann: map[string]string{annNames: id + "-*"}, allowed: []string{"a", "b", "c"},
				after: map[string]string{annNames: team}, allowedAfter: []string{"a"}},
			{name: "withdrawn-orphan", ann: map[string]string{annSel: "tier"}, allowed: []string{"a", "b", "c"}, after: map[string]string{},
				orphanOnWithdraw: true},
		}
	}
	kinds := []string{"Secret", "ConfigMap"}

	sourceName := func(c consentCase, kind string) string {
		return fmt.Sprintf("%s-%s", c.name, map[string]string{"Secret": "s", "ConfigMap": "cm"}[kind])
	}

	setAnnotations := func(obj client.Object, ann map[string]string) {
		a := map[string]string{}
		maps.Copy(a, obj.GetAnnotations())
		delete(a, annNames)
		delete(a, annSel)
		delete(a, "courier.dev/share-with-namespace")
		delete(a, "share-with-namespaces")
		maps.Copy(a, ann)
		obj.SetAnnotations(a)
	}

	// expectCopies checks every Propagation of the matrix: a copy exactly where
	// allowed, identical to its source, and nothing else in the consumer namespaces.
	expectCopies := func(after bool) {
		Eventually(func(g Gomega) {
			want := map[string]bool{}
			for _, c := range cases() {
				allowed := c.allowed
				if after && c.after != nil {
					allowed = c.allowedAfter
				}
				for _, kind := range kinds {
					for _, k := range allowed {
						want[kind+"/"+nsOf[k]+"/"+sourceName(c, kind)] = true
					}
				}
			}
			got := map[string]bool{}
			for _, ns := range nsOf {
				var sl corev1.SecretList
				g.Expect(admin.List(ctx, &sl, client.InNamespace(ns), client.HasLabels{v1alpha1.LabelPropagation})).To(Succeed())
				for _, s := range sl.Items {
					got["Secret/"+ns+"/"+s.Name] = true
					var src corev1.Secret
					g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: srcNS, Name: s.Name}, &src)).To(Succeed())
					g.Expect(bytesMapEqual(s.Data, src.Data)).To(BeTrue())
				}
				var cl corev1.ConfigMapList
				g.Expect(admin.List(ctx, &cl, client.InNamespace(ns), client.HasLabels{v1alpha1.LabelPropagation})).To(Succeed())
				for _, c := range cl.Items {
					got["ConfigMap/"+ns+"/"+c.Name] = true
					var src corev1.ConfigMap
					g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: srcNS, Name: c.Name}, &src)).To(Succeed())
					g.Expect(c.Data).To(Equal(src.Data))
				}
				// Orphaned copies lose the propagation label; nothing else may remain.
				var all corev1.SecretList
				g.Expect(admin.List(ctx, &all, client.InNamespace(ns))).To(Succeed())
				for _, s := range all.Items {
					if _, isCopy := got["Secret/"+ns+"/"+s.Name]; !isCopy && s.Type != corev1.SecretTypeServiceAccountToken {
						g.Expect(s.Name).To(BeEmpty(), "unexpected Secret %s/%s in a consumer namespace", ns, s.Name)
					}
				}
				var allCM corev1.ConfigMapList
				g.Expect(admin.List(ctx, &allCM, client.InNamespace(ns))).To(Succeed())
				for _, c := range allCM.Items {
					if _, isCopy := got["ConfigMap/"+ns+"/"+c.Name]; !isCopy && c.Name != "kube-root-ca.crt" {
						g.Expect(c.Name).To(BeEmpty(), "unexpected ConfigMap %s/%s in a consumer namespace", ns, c.Name)
					}
				}
			}
			g.Expect(sortedKeys(got)).To(Equal(sortedKeys(want)))
		}).Should(Succeed())
	}

	BeforeAll(func() {
		m = startManager()
		id = uniq("consent")
		srcNS = mkNamespace(ctx, id+"-src", nil)
		nsOf = map[string]string{
			"a": mkNamespace(ctx, id+"-team-a", map[string]string{"tier": "dev"}),
			"b": mkNamespace(ctx, id+"-web", map[string]string{"tier": "prod"}),
			"c": mkNamespace(ctx, id+"-other", map[string]string{"tier": "dev"}),
		}
		for _, c := range cases() {
			for _, kind := range kinds {
				name := sourceName(c, kind)
				if kind == "Secret" {
					mkSecret(ctx, srcNS, name, func(s *corev1.Secret) { setAnnotations(s, c.ann) })
				} else {
					mkConfigMap(ctx, srcNS, name, func(cm *corev1.ConfigMap) { setAnnotations(cm, c.ann) })
				}
				for _, ns := range nsOf {
					spec := v1alpha1.PropagationSpec{Sources: []v1alpha1.SourceReference{{APIVersion: "v1", Kind: kind, Namespace: srcNS, Name: name}}}
					if c.orphanOnWithdraw {
						spec.DeletionPolicy = v1alpha1.DeletionOrphan
					}
					mkPull(ctx, ns, name, spec)
					figures.consentCases.Add(1)
				}
			}
		}
	})
	AfterAll(func() { m.kill() })

	It("copies exactly where the source's owner consented", func() {
		expectCopies(false)
	})

	It("says why on every refused pull", func() {
		for _, c := range cases() {
			for _, kind := range kinds {
				for k, ns := range nsOf {
					allowed := false
					for _, a := range c.allowed {
						allowed = allowed || a == k
					}
					if allowed {
						continue
					}
					p := &v1alpha1.Propagation{}
					p.Namespace, p.Name = ns, sourceName(c, kind)
					Eventually(func() string { return conditionOf(ctx, p, "Ready") }).Should(ContainSubstring("NotShared"), "%s %s in %s", c.name, kind, ns)
				}
			}
		}
	})

	It("removes copies when consent is withdrawn or narrowed, whatever the deletion policy", func() {
		for _, c := range cases() {
			if c.after == nil {
				continue
			}
			for _, kind := range kinds {
				key := types.NamespacedName{Namespace: srcNS, Name: sourceName(c, kind)}
				var obj client.Object = &corev1.Secret{}
				if kind == "ConfigMap" {
					obj = &corev1.ConfigMap{}
				}
				Expect(admin.Get(ctx, key, obj)).To(Succeed())
				setAnnotations(obj, c.after)
				Expect(admin.Update(ctx, obj)).To(Succeed())
				figures.consentCases.Add(int64(len(nsOf)))
			}
		}
		expectCopies(true)
	})
})
