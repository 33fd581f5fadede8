package reliability

import (
	"context"
	"fmt"
	"maps"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	sharedManager()
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
			// Both kinds keep their content in "data" (a Secret's base64-encoded), so
			// one unstructured pass a kind compares a copy with its source.
			list := func(kind, ns string, opts ...client.ListOption) []unstructured.Unstructured {
				l := &unstructured.UnstructuredList{}
				l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind + "List"))
				g.Expect(admin.List(ctx, l, append(opts, client.InNamespace(ns))...)).To(Succeed())
				return l.Items
			}
			for _, ns := range nsOf {
				for _, kind := range kinds {
					for _, c := range list(kind, ns, client.HasLabels{v1alpha1.LabelPropagation}) {
						got[kind+"/"+ns+"/"+c.GetName()] = true
						src := &unstructured.Unstructured{}
						src.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
						g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: srcNS, Name: c.GetName()}, src)).To(Succeed())
						g.Expect(c.Object["data"]).To(Equal(src.Object["data"]))
					}
					// Orphaned copies lose the propagation label; nothing else may remain
					// but the API server's own (a token Secret, kube-root-ca.crt).
					for _, o := range list(kind, ns) {
						own := kind == "Secret" && o.Object["type"] == string(corev1.SecretTypeServiceAccountToken) ||
							kind == "ConfigMap" && o.GetName() == "kube-root-ca.crt"
						if _, isCopy := got[kind+"/"+ns+"/"+o.GetName()]; !isCopy && !own {
							g.Expect(o.GetName()).To(BeEmpty(), "unexpected %s %s/%s in a consumer namespace", kind, ns, o.GetName())
						}
					}
				}
			}
			g.Expect(sortedKeys(got)).To(Equal(sortedKeys(want)))
		}).Should(Succeed())
	}

	BeforeAll(func() {
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
