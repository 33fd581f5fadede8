package propagation

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

var _ = Describe("admission validation", func() {
	ctx := context.Background()
	good := func() v1alpha1.ClusterPropagationSpec {
		return v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef("src", "creds")},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: bySelector("team", "a")},
		}
	}

	It("accepts a valid spec", func() {
		p := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("valid")}, Spec: good()}
		Expect(admin.Create(ctx, p)).To(Succeed())
		deleteAndWait(ctx, p)
	})

	It("rejects a name too long to be the copies' label value", func() {
		p := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("n", 64)}, Spec: good()}
		err := admin.Create(ctx, p)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("metadata.name must be at most 63 characters"))
		pull := &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("p", 64), Namespace: "default"},
			Spec: v1alpha1.PropagationSpec{Sources: good().Sources}}
		err = admin.Create(ctx, pull)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("metadata.name must be at most 63 characters"))
	})

	DescribeTable("rejects a bad spec with a message naming the field",
		func(mutate func(*v1alpha1.ClusterPropagationSpec), wantField, wantMessage string) {
			spec := good()
			mutate(&spec)
			p := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("bad")}, Spec: spec}
			err := admin.Create(ctx, p)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(wantField))
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("no sources", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources = nil },
			"spec.sources", "Required"),
		Entry("both name and selector", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].Selector = bySelector("a", "b") },
			"spec.sources[0]", "exactly one of name or selector"),
		Entry("neither name nor selector", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].Name = "" },
			"spec.sources[0]", "exactly one of name or selector"),
		Entry("rename with a selector source", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Sources[0] = v1alpha1.SourceReference{APIVersion: "v1", Kind: "Secret", Namespace: "src", Selector: bySelector("a", "b")}
			s.Template = &v1alpha1.CopyTemplate{Name: "x"}
		}, "spec.template.name", "rename"),
		Entry("rename with two sources", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Sources = append(s.Sources, secretRef("src", "other"))
			s.Template = &v1alpha1.CopyTemplate{Name: "x"}
		}, "spec.template.name", "rename"),
		Entry("invalid label selector value", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"team": "not a value!"}}
		}, "spec.targets.namespaceSelector.matchLabels.team", "should match"),
		Entry("invalid label selector key", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchLabels: map[string]v1alpha1.LabelValue{"bad key": "a"}}
		}, "spec.targets.namespaceSelector.matchLabels", "valid label keys"),
		Entry("unknown selector operator", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: "Near", Values: []v1alpha1.LabelValue{"b"}}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0].operator", "Unsupported value"),
		Entry("In without values", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.NamespaceSelector = &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "a", Operator: "In"}}}
		}, "spec.targets.namespaceSelector.matchExpressions[0]", "values must be non-empty"),
		Entry("invalid namespace glob", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.Namespaces = []v1alpha1.NamespacePattern{"Team_A/*"}
		}, "spec.targets.namespaces[0]", "should match"),
		Entry("invalid exclude glob", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Targets.ExcludeNamespaces = []v1alpha1.NamespacePattern{"kube system"}
		}, "spec.targets.excludeNamespaces[0]", "should match"),
		Entry("no targets at all", func(s *v1alpha1.ClusterPropagationSpec) { s.Targets = v1alpha1.ClusterTargets{} },
			"spec.targets", "namespaceSelector and/or namespaces"),
		Entry("unknown conflict policy", func(s *v1alpha1.ClusterPropagationSpec) { s.ConflictPolicy = "Merge" },
			"spec.conflictPolicy", "Unsupported value"),
		Entry("unknown deletion policy", func(s *v1alpha1.ClusterPropagationSpec) { s.DeletionPolicy = "Keep" },
			"spec.deletionPolicy", "Unsupported value"),
		Entry("includeKeys on a non-Secret/ConfigMap source", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Sources[0] = named("v1", "LimitRange", "src", "limits")
			s.Template = &v1alpha1.CopyTemplate{IncludeKeys: []v1alpha1.KeyPattern{"a"}}
		}, "spec.template", "apply only to v1 Secret and ConfigMap"),
		Entry("reserved template label", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Labels: map[string]v1alpha1.LabelValue{"courier.dev/propagation": "x"}}
		}, "spec.template.labels", "reserved"),
		Entry("reserved template annotation", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{Annotations: map[string]v1alpha1.AnnotationValue{"courier.dev/source": "x"}}
		}, "spec.template.annotations", "reserved"),
		Entry("lowercase kind", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].Kind = "secret" },
			"spec.sources[0].kind", "should match"),
		Entry("bad apiVersion", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].APIVersion = "V1" },
			"spec.sources[0].apiVersion", "should match"),
		Entry("source namespace too long", func(s *v1alpha1.ClusterPropagationSpec) { s.Sources[0].Namespace = strings.Repeat("a", 64) },
			"spec.sources[0].namespace", "Too long"),
		Entry("too many sources", func(s *v1alpha1.ClusterPropagationSpec) {
			for i := 0; i < 16; i++ {
				s.Sources = append(s.Sources, secretRef("src", "more"))
			}
		}, "spec.sources", "must have at most 16 items"),
		Entry("bad key pattern", func(s *v1alpha1.ClusterPropagationSpec) {
			s.Template = &v1alpha1.CopyTemplate{ExcludeKeys: []v1alpha1.KeyPattern{"a key"}}
		}, "spec.template.excludeKeys[0]", "should match"),
	)

	It("rejects a Propagation without a source namespace and with rename on a selector", func() {
		p := &v1alpha1.Propagation{ObjectMeta: metav1.ObjectMeta{Name: uniq("bad"), Namespace: "default"}, Spec: v1alpha1.PropagationSpec{
			Sources:  []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Selector: bySelector("a", "b")}},
			Template: &v1alpha1.CopyTemplate{Name: "x"},
		}}
		err := admin.Create(ctx, p)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.sources[0].namespace"))
		Expect(err.Error()).To(ContainSubstring("spec.template.name"))
	})
})
