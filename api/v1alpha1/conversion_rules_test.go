package v1alpha1

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/courier-operator/courier/api/v1beta1"
)

// hubWith returns a hub ClusterPropagation with template t and sourceNamespace sn
// (none: the default the API server sets, Exclude).
func hubWith(t *v1beta1.CopyTemplate, sn v1beta1.SourceNamespacePolicy) *v1beta1.ClusterPropagation {
	if sn == "" {
		sn = v1beta1.SourceNamespaceExclude
	}
	return &v1beta1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: "ca"},
		Spec: v1beta1.ClusterPropagationSpec{
			Sources:  []v1beta1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: "platform", Name: "ca"}},
			Targets:  v1beta1.ClusterTargets{Namespaces: []v1beta1.NamespacePattern{"team-*"}, SourceNamespace: sn},
			Template: t,
		},
	}
}

func down(t *testing.T, hub *v1beta1.ClusterPropagation) *ClusterPropagation {
	t.Helper()
	s := &ClusterPropagation{}
	if err := s.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	return s
}

func up(t *testing.T, s *ClusterPropagation) *v1beta1.ClusterPropagation {
	t.Helper()
	h := &v1beta1.ClusterPropagation{}
	if err := s.ConvertTo(h); err != nil {
		t.Fatal(err)
	}
	return h
}

func include(globs ...v1beta1.KeyPattern) v1beta1.KeyRule { return v1beta1.KeyRule{Include: globs} }
func exclude(globs ...v1beta1.KeyPattern) v1beta1.KeyRule { return v1beta1.KeyRule{Exclude: globs} }
func rename(from, to v1beta1.DataKey) v1beta1.KeyRule {
	return v1beta1.KeyRule{Rename: &v1beta1.KeyRename{From: from, To: to}}
}

// TestConversionShowsV1alpha1WhatItCan checks what a v1alpha1 client reads of v1beta1
// objects: the fields v1alpha1 has, and the annotation only when v1beta1 says more.
func TestConversionShowsV1alpha1WhatItCan(t *testing.T) {
	for _, c := range []struct {
		name             string
		template         *v1beta1.CopyTemplate
		sourceNamespace  v1beta1.SourceNamespacePolicy
		include, exclude []KeyPattern
		recorded         string // a fragment of the annotation, "" for none
	}{
		{name: "include then exclude", template: &v1beta1.CopyTemplate{Keys: []v1beta1.KeyRule{include("tls.*", "ca.crt"), exclude("tls.key")}},
			include: []KeyPattern{"tls.*", "ca.crt"}, exclude: []KeyPattern{"tls.key"}},
		{name: "exclude only", template: &v1beta1.CopyTemplate{Keys: []v1beta1.KeyRule{exclude("*.key")}}, exclude: []KeyPattern{"*.key"}},
		{name: "exclude then include", template: &v1beta1.CopyTemplate{Keys: []v1beta1.KeyRule{exclude("b"), include("a")}},
			include: []KeyPattern{"a"}, exclude: []KeyPattern{"b"}, recorded: `"keys":[{"exclude":["b"]},{"include":["a"]}]`},
		{name: "rename", template: &v1beta1.CopyTemplate{Keys: []v1beta1.KeyRule{include("tls.crt"), rename("tls.crt", "ca.crt")}},
			include: []KeyPattern{"tls.crt"}, recorded: `{"rename":{"from":"tls.crt","to":"ca.crt"}}`},
		{name: "prefix and suffix", template: &v1beta1.CopyTemplate{NamePrefix: "shared-", NameSuffix: "-v1"}, recorded: `"namePrefix":"shared-","nameSuffix":"-v1"`},
		{name: "secret type", template: &v1beta1.CopyTemplate{SecretType: "kubernetes.io/dockerconfigjson"}, recorded: `"secretType":"kubernetes.io/dockerconfigjson"`},
		{name: "alias", template: &v1beta1.CopyTemplate{NameSuffix: "-alias"}, sourceNamespace: v1beta1.SourceNamespaceInclude, recorded: `"sourceNamespace":"Include"`},
		{name: "defaults", sourceNamespace: v1beta1.SourceNamespaceExclude},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := down(t, hubWith(c.template, c.sourceNamespace))
			var gotInclude, gotExclude []KeyPattern
			if s.Spec.Template != nil {
				gotInclude, gotExclude = s.Spec.Template.IncludeKeys, s.Spec.Template.ExcludeKeys
			}
			if !slices.Equal(gotInclude, c.include) || !slices.Equal(gotExclude, c.exclude) {
				t.Errorf("includeKeys %q excludeKeys %q, want %q %q", gotInclude, gotExclude, c.include, c.exclude)
			}
			raw, ok := s.Annotations[AnnotationConversionData]
			switch {
			case c.recorded == "" && ok:
				t.Errorf("annotation %s = %s, want none", AnnotationConversionData, raw)
			case c.recorded != "" && !strings.Contains(raw, c.recorded):
				t.Errorf("annotation %s = %q, want it to hold %s", AnnotationConversionData, raw, c.recorded)
			}
		})
	}
}

// TestConversionV1alpha1EditsWin checks that a v1alpha1 client's edit of what a
// recorded value stands for is kept, and that an edit elsewhere keeps the record.
func TestConversionV1alpha1EditsWin(t *testing.T) {
	rules := []v1beta1.KeyRule{include("tls.crt"), rename("tls.crt", "ca.crt")}
	hub := hubWith(&v1beta1.CopyTemplate{Keys: rules, NamePrefix: "shared-", SecretType: "Opaque"}, v1beta1.SourceNamespaceExclude)

	t.Run("an edit elsewhere keeps every v1beta1 field", func(t *testing.T) {
		s := down(t, hub)
		s.Spec.ConflictPolicy = ConflictOverwrite
		s.Spec.Template.Labels = map[string]LabelValue{"team": "a"}
		h := up(t, s)
		if !equalKeyRules(h.Spec.Template.Keys, rules) || h.Spec.Template.NamePrefix != "shared-" || h.Spec.Template.SecretType != "Opaque" {
			t.Errorf("template %+v, want keys %+v, prefix shared-, type Opaque", h.Spec.Template, rules)
		}
		if h.Spec.ConflictPolicy != v1beta1.ConflictOverwrite || h.Spec.Template.Labels["team"] != "a" {
			t.Errorf("the v1alpha1 edit is lost: %+v", h.Spec)
		}
		if _, ok := h.Annotations[AnnotationConversionData]; ok {
			t.Errorf("the hub object keeps %s", AnnotationConversionData)
		}
	})
	t.Run("an edit of the key sets replaces the rules", func(t *testing.T) {
		s := down(t, hub)
		s.Spec.Template.IncludeKeys = []KeyPattern{"ca.crt"}
		h := up(t, s)
		if want := []v1beta1.KeyRule{include("ca.crt")}; !equalKeyRules(h.Spec.Template.Keys, want) {
			t.Errorf("keys %+v, want %+v", h.Spec.Template.Keys, want)
		}
	})
	t.Run("a rename drops the prefix", func(t *testing.T) {
		s := down(t, hub)
		s.Spec.Template.Name = "ca-copy"
		h := up(t, s)
		if h.Spec.Template.Name != "ca-copy" || h.Spec.Template.NamePrefix != "" {
			t.Errorf("name %q prefix %q, want ca-copy and none", h.Spec.Template.Name, h.Spec.Template.NamePrefix)
		}
	})
	t.Run("a v1alpha1 object without the annotation gets v1alpha1's behaviour", func(t *testing.T) {
		s := down(t, hub)
		delete(s.Annotations, AnnotationConversionData)
		h := up(t, s)
		if h.Spec.Targets.SourceNamespace != v1beta1.SourceNamespaceExclude || h.Spec.Template.NamePrefix != "" || h.Spec.Template.SecretType != "" {
			t.Errorf("got %+v, want sourceNamespace Exclude, no prefix, no type", h.Spec)
		}
	})
}

func TestConversionRefusesAForeignAnnotation(t *testing.T) {
	s := &ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: "x", Annotations: map[string]string{AnnotationConversionData: "not json"}}}
	err := s.ConvertTo(&v1beta1.ClusterPropagation{})
	if err == nil || !strings.Contains(err.Error(), AnnotationConversionData) {
		t.Fatalf("error %v, want one naming %s", err, AnnotationConversionData)
	}
}
