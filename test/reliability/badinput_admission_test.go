package reliability

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Invalid specs the API server must reject at admission, each with a message that
// names the offending field: the one table of the CRDs' validation (schema and CEL
// rules). A rejected object has no side effect by construction; the spec also
// checks that nothing was stored.

func goodClusterSpec() v1alpha1.ClusterPropagationSpec {
	return v1alpha1.ClusterPropagationSpec{
		Sources: []v1alpha1.SourceReference{secretRef("src", "creds")},
		Targets: v1alpha1.ClusterTargets{NamespaceSelector: matchLabels("team", "a")},
	}
}

func repeatPatterns(n int) []v1alpha1.NamespacePattern {
	out := make([]v1alpha1.NamespacePattern, n)
	for i := range out {
		out[i] = v1alpha1.NamespacePattern(fmt.Sprintf("ns-%d", i))
	}
	return out
}

func nExpressions(n int) []v1alpha1.LabelSelectorRequirement {
	out := make([]v1alpha1.LabelSelectorRequirement, n)
	for i := range out {
		out[i] = v1alpha1.LabelSelectorRequirement{Key: fmt.Sprintf("k%d", i), Operator: "Exists"}
	}
	return out
}

// sourceFieldEntry is an entry of the ClusterPropagation table below whose one
// invalid value, set by set, is in field of the first source: the rejection must
// name spec.sources[0].<field>.
func sourceFieldEntry(desc, field, wantMessage string, set func(*v1alpha1.SourceReference)) TableEntry {
	GinkgoHelper() // the entry's location is the caller's line
	return Entry(desc, func(s *v1alpha1.ClusterPropagationSpec) { set(&s.Sources[0]) }, "spec.sources[0]."+field, wantMessage)
}

var _ = Describe("bad input: admission rejects invalid specs with field-specific messages", func() {
	ctx := context.Background()

	DescribeTable("ClusterPropagation",
		func(mutate func(*v1alpha1.ClusterPropagationSpec), wantField, wantMessage string) {
			figures.badInputs.Add(1)
			spec := goodClusterSpec()
			mutate(&spec)
			name := uniq("bad")
			err := admin.Create(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec})
			Expect(err).To(HaveOccurred(), "an invalid spec was accepted")
			Expect(err.Error()).To(ContainSubstring(wantField))
			Expect(err.Error()).To(ContainSubstring(wantMessage))
			Expect(gone(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: name}})()).To(BeTrue())
		},
		Entry("no sources", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources = nil }, "spec.sources", "Required"),
		Entry("both name and selector", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].Selector = matchLabels("a", "b") },
			"spec.sources[0]", "exactly one of name or selector"),
		Entry("neither name nor selector", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].Name = "" },
			"spec.sources[0]", "exactly one of name or selector"),
		Entry("rename with a selector source", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Sources[0] = v1alpha1.SourceReference{APIVersion: "v1", Kind: "Secret", Namespace: "src", Selector: matchLabels("a", "b")}
			s.Template = &v1alpha1.CopyTemplate{Name: "x"}
		}, "spec.template.name", "rename"),
		Entry("rename with two sources", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Sources = append(s.Sources, secretRef("src", "other"))
			s.Template = &v1alpha1.CopyTemplate{Name: "x"}
		}, "spec.template.name", "rename"),
		Entry("selector value with spaces", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"team": "not a value!"}}
		}, "spec.targets.namespaceSelector.matchLabels.team", "should match"),
		Entry("selector value too long", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"team": v1alpha1.LabelValue(strings.Repeat("a", 64))}}
		}, "spec.targets.namespaceSelector.matchLabels.team", "Too long"),
		Entry("selector key with a space", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"bad key": "a"}}
		}, "spec.targets.namespaceSelector.matchLabels", "valid label keys"),
		Entry("selector key with a unicode letter", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"tëam": "a"}}
		}, "spec.targets.namespaceSelector.matchLabels", "valid label keys"),
		Entry("unknown selector operator", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: "Near", Values: []v1alpha1.LabelValue{"b"}}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0].operator", "Unsupported value"),
		Entry("In without values", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: "In"}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0]", "values must be non-empty"),
		Entry("Exists with values", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: "Exists", Values: []v1alpha1.LabelValue{"b"}}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0]", "empty for Exists"),
		Entry("expression key too long", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: strings.Repeat("k", 318), Operator: "Exists"}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0].key", "Too long"),
		Entry("oversized: 17 match expressions", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: nExpressions(17)}
		}, "spec.targets.namespaceSelector.matchExpressions", "at most 16"),
		Entry("oversized: 65 values", func(s *v1alpha1.ClusterPropagationSpec) {
			vals := make([]v1alpha1.LabelValue, 65)
			for i := range vals {
				vals[i] = v1alpha1.LabelValue(fmt.Sprintf("v%d", i))
			}
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: "In", Values: vals}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0].values", "at most 64"),
		Entry("oversized: 33 matchLabels", func(s *v1alpha1.ClusterPropagationSpec) {
			m := map[string]v1alpha1.LabelValue{}
			for i := 0; i < 33; i++ {
				m[fmt.Sprintf("k%d", i)] = "v"
			}
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: m}
		}, "spec.targets.namespaceSelector.matchLabels", "at most 32"),
		Entry("glob with a slash and capitals", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.Namespaces = []v1alpha1.NamespacePattern{"Team_A/*"}
		},
			"spec.targets.namespaces[0]", "should match"),
		Entry("glob with a unicode letter", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.Namespaces = []v1alpha1.NamespacePattern{"tëam-*"}
		},
			"spec.targets.namespaces[0]", "should match"),
		Entry("glob with a character class", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.Namespaces = []v1alpha1.NamespacePattern{"team-[ab]"}
		},
			"spec.targets.namespaces[0]", "should match"),
		Entry("empty glob", func(s *v1alpha1.ClusterPropagationSpec) { s.Targets.Namespaces = []v1alpha1.NamespacePattern{""} },
			"spec.targets.namespaces[0]", "at least 1"),
		Entry("glob too long", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.Namespaces = []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(strings.Repeat("*", 64))}
		}, "spec.targets.namespaces[0]", "Too long"),
		Entry("exclude glob with a space", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.ExcludeNamespaces = []v1alpha1.NamespacePattern{"kube system"}
		},
			"spec.targets.excludeNamespaces[0]", "should match"),
		Entry("oversized: 65 namespace globs", func(s *v1alpha1.ClusterPropagationSpec) { s.Targets.Namespaces = repeatPatterns(65) },
			"spec.targets.namespaces", "at most 64"),
		Entry("oversized: 65 exclude globs", func(s *v1alpha1.ClusterPropagationSpec) { s.Targets.ExcludeNamespaces = repeatPatterns(65) },
			"spec.targets.excludeNamespaces", "at most 64"),
		Entry("duplicate globs in a set", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.Namespaces = []v1alpha1.NamespacePattern{"a", "a"}
		}, "spec.targets.namespaces[1]", "Duplicate value"),
		Entry("no targets at all", func(s *v1alpha1.ClusterPropagationSpec) { s.Targets = v1alpha1.ClusterTargets{} },
			"spec.targets", "namespaceSelector and/or namespaces"),
		Entry("unknown conflict policy", func(s *v1alpha1.ClusterPropagationSpec) { s.ConflictPolicy = "Merge" },
			"spec.conflictPolicy", "Unsupported value"),
		Entry("unknown deletion policy", func(s *v1alpha1.ClusterPropagationSpec) { s.DeletionPolicy = "Keep" },
			"spec.deletionPolicy", "Unsupported value"),
		Entry("includeKeys on a kind that has no keys", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Sources[0] = v1alpha1.SourceReference{APIVersion: "v1", Kind: "LimitRange", Namespace: "src", Name: "limits"}
			s.Template = &v1alpha1.CopyTemplate{IncludeKeys: []v1alpha1.KeyPattern{"a"}}
		}, "spec.template", "apply only to v1 Secret and ConfigMap"),
		Entry("reserved template label courier.dev/*", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Labels: map[string]v1alpha1.LabelValue{"courier.dev/propagation": "x"}}
		}, "spec.template.labels", "reserved"),
		Entry("reserved template label managed-by (steal another tool's copies)", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Labels: map[string]v1alpha1.LabelValue{"app.kubernetes.io/managed-by": "helm"}}
		}, "spec.template.labels", "reserved"),
		Entry("reserved template annotation", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Annotations: map[string]v1alpha1.AnnotationValue{"courier.dev/source": "kube-system/admin"}}
		}, "spec.template.annotations", "reserved"),
		Entry("template annotation value too long", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Annotations: map[string]v1alpha1.AnnotationValue{"note": v1alpha1.AnnotationValue(strings.Repeat("x", 4097))}}
		}, "spec.template.annotations.note", "Too long"),
		Entry("oversized: 33 template labels", func(s *v1alpha1.ClusterPropagationSpec) {
			m := map[string]v1alpha1.LabelValue{}
			for i := 0; i < 33; i++ {
				m[fmt.Sprintf("k%d", i)] = "v"
			}
			s.Template = &v1alpha1.CopyTemplate{Labels: m}
		}, "spec.template.labels", "at most 32"),
		Entry("oversized: 65 includeKeys", func(s *v1alpha1.ClusterPropagationSpec) {
			keys := make([]v1alpha1.KeyPattern, 65)
			for i := range keys {
				keys[i] = v1alpha1.KeyPattern(fmt.Sprintf("k%d", i))
			}
			s.Template = &v1alpha1.CopyTemplate{IncludeKeys: keys}
		}, "spec.template.includeKeys", "at most 64"),
		Entry("key pattern with a space", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{ExcludeKeys: []v1alpha1.KeyPattern{"a key"}}
		}, "spec.template.excludeKeys[0]", "should match"),
		sourceFieldEntry("lowercase kind", "kind", "should match", func(r *v1alpha1.SourceReference) { r.Kind = "secret" }),
		sourceFieldEntry("bad apiVersion", "apiVersion", "should match", func(r *v1alpha1.SourceReference) { r.APIVersion = "V1" }),
		sourceFieldEntry("source namespace too long", "namespace", "Too long", func(r *v1alpha1.SourceReference) { r.Namespace = strings.Repeat("a", 64) }),
		sourceFieldEntry("source namespace with a unicode letter", "namespace", "should match", func(r *v1alpha1.SourceReference) { r.Namespace = "prød" }),
		sourceFieldEntry("source name with unicode", "name", "should match", func(r *v1alpha1.SourceReference) { r.Name = "sécret" }),
		sourceFieldEntry("source name with a path traversal", "name", "should match", func(r *v1alpha1.SourceReference) { r.Name = "../kube-system/admin" }),
		sourceFieldEntry("source name too long", "name", "Too long", func(r *v1alpha1.SourceReference) { r.Name = strings.Repeat("a", 254) }),
		Entry("copy name too long", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Name: strings.Repeat("a", 254)}
		}, "spec.template.name", "Too long"),
		Entry("oversized: 17 sources", func(s *v1alpha1.ClusterPropagationSpec) {
			for i := 0; i < 16; i++ {
				s.Sources = append(s.Sources, secretRef("src", fmt.Sprintf("more-%d", i)))
			}
		}, "spec.sources", "at most 16"),
	)

	It("rejects a ClusterPropagation whose name is not a DNS subdomain (unicode, too long)", func() {
		for _, name := range []string{"prøpagation", strings.Repeat("a", 254), "UPPER"} {
			figures.badInputs.Add(1)
			err := admin.Create(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: goodClusterSpec()})
			Expect(err).To(HaveOccurred(), name)
			Expect(err.Error()).To(ContainSubstring("metadata.name"))
		}
	})

	It("accepts the valid spec every entry above starts from", func() {
		p := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("valid")}, Spec: goodClusterSpec()}
		Expect(admin.Create(ctx, p)).To(Succeed(), "the table's starting point must be valid, or every rejection proves nothing")
		deleteAndWait(ctx, p)
	})

	It("rejects a name too long to be the copies' label value, for both kinds", func() {
		figures.badInputs.Add(2)
		err := admin.Create(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("n", 64)}, Spec: goodClusterSpec()})
		Expect(err).To(MatchError(ContainSubstring("metadata.name must be at most 63 characters")))
		err = admin.Create(ctx, &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("p", 64), Namespace: "default"},
			Spec: v1alpha1.PropagationSpec{Sources: goodClusterSpec().Sources}})
		Expect(err).To(MatchError(ContainSubstring("metadata.name must be at most 63 characters")))
	})

	It("rejects a Propagation with a source without a namespace and a rename on a selector", func() {
		figures.badInputs.Add(1)
		err := admin.Create(ctx, &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("bad"), Namespace: "default"}, Spec: v1alpha1.PropagationSpec{
			Sources:  []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Selector: matchLabels("a", "b")}},
			Template: &v1alpha1.CopyTemplate{Name: "x"},
		}})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.sources[0].namespace"))
		Expect(err.Error()).To(ContainSubstring("spec.template.name"))
	})
})
