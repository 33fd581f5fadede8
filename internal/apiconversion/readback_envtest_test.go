package apiconversion_test

import (
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/api/v1beta1"
)

// get reads obj's key into a new object of into's type.
func get[T client.Object](t *testing.T, key client.Object, into T) T {
	t.Helper()
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(key), into); err != nil {
		t.Fatalf("reading %s through %T: %v", key.GetName(), into, err)
	}
	return into
}

func alphaCP(name string) *v1alpha1.ClusterPropagation {
	return &v1alpha1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"team": "platform"}},
		Spec: v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: "platform", Name: "ca"}},
			Targets: v1alpha1.ClusterTargets{
				NamespaceSelector: &v1alpha1.LabelSelector{MatchExpressions: []v1alpha1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []v1alpha1.LabelValue{"prod"}}}},
				ExcludeNamespaces: []v1alpha1.NamespacePattern{"*-sandbox"},
			},
			Template: &v1alpha1.CopyTemplate{
				Name: "platform-ca", IncludeKeys: []v1alpha1.KeyPattern{"ca.crt", "tls.*"}, ExcludeKeys: []v1alpha1.KeyPattern{"tls.key"},
				Labels: map[string]v1alpha1.LabelValue{"purpose": "trust"},
			},
			ConflictPolicy: v1alpha1.ConflictAdopt,
		},
	}
}

func betaCP(name string) *v1beta1.ClusterPropagation {
	return &v1beta1.ClusterPropagation{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1beta1.ClusterPropagationSpec{
			Sources: []v1beta1.SourceReference{{APIVersion: "v1", Kind: "Secret", Namespace: "platform",
				Selector: &v1beta1.LabelSelector{MatchLabels: map[string]v1beta1.LabelValue{"registry": "true"}}}},
			Targets: v1beta1.ClusterTargets{NamespaceSelector: &v1beta1.LabelSelector{}, SourceNamespace: v1beta1.SourceNamespaceInclude},
			Template: &v1beta1.CopyTemplate{
				NamePrefix: "mirrored-",
				Keys: []v1beta1.KeyRule{
					{Include: []v1beta1.KeyPattern{"config.json"}},
					{Rename: &v1beta1.KeyRename{From: "config.json", To: ".dockerconfigjson"}},
				},
				SecretType: "kubernetes.io/dockerconfigjson",
			},
		},
	}
}

// TestReadBackThroughBothVersions creates objects through each version and reads
// them through both: what was written comes back, whichever version reads it.
func TestReadBackThroughBothVersions(t *testing.T) {
	t.Run("created as v1alpha1", func(t *testing.T) {
		in := alphaCP("from-alpha")
		if err := c.Create(t.Context(), in.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		alpha := get(t, in, &v1alpha1.ClusterPropagation{})
		if !equality.Semantic.DeepEqual(alpha.Spec, withDefaults(in).Spec) || !equality.Semantic.DeepEqual(alpha.Labels, in.Labels) {
			t.Errorf("v1alpha1 reads back differently:\n%s", diff.Diff(withDefaults(in).Spec, alpha.Spec))
		}
		if _, ok := alpha.Annotations[v1alpha1.AnnotationConversionData]; ok {
			t.Errorf("an object v1alpha1 says exactly carries %s", v1alpha1.AnnotationConversionData)
		}
		beta := get(t, in, &v1beta1.ClusterPropagation{})
		want := []v1beta1.KeyRule{{Include: []v1beta1.KeyPattern{"ca.crt", "tls.*"}}, {Exclude: []v1beta1.KeyPattern{"tls.key"}}}
		if !equality.Semantic.DeepEqual(beta.Spec.Template.Keys, want) || beta.Spec.Template.Name != "platform-ca" ||
			beta.Spec.Targets.SourceNamespace != v1beta1.SourceNamespaceExclude || beta.Spec.ConflictPolicy != v1beta1.ConflictAdopt {
			t.Errorf("v1beta1 reads %+v", beta.Spec)
		}
		if beta.UID != alpha.UID || beta.ResourceVersion != alpha.ResourceVersion {
			t.Errorf("two versions of one object differ in identity: %s/%s and %s/%s", alpha.UID, alpha.ResourceVersion, beta.UID, beta.ResourceVersion)
		}
	})
	t.Run("created as v1beta1 with what v1alpha1 cannot say", func(t *testing.T) {
		in := betaCP("from-beta")
		if err := c.Create(t.Context(), in.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		beta := get(t, in, &v1beta1.ClusterPropagation{})
		if !equality.Semantic.DeepEqual(beta.Spec, betaWithDefaults(in).Spec) {
			t.Errorf("v1beta1 reads back differently:\n%s", diff.Diff(betaWithDefaults(in).Spec, beta.Spec))
		}
		alpha := get(t, in, &v1alpha1.ClusterPropagation{})
		if raw := alpha.Annotations[v1alpha1.AnnotationConversionData]; !strings.Contains(raw, `"rename"`) || !strings.Contains(raw, `"namePrefix":"mirrored-"`) {
			t.Errorf("v1alpha1 shows %s = %q, want the rename and the prefix", v1alpha1.AnnotationConversionData, raw)
		}
		// A v1alpha1 client writes it back with a change of its own: nothing of v1beta1 is lost.
		alpha.Spec.ConflictPolicy = v1alpha1.ConflictOverwrite
		if err := c.Update(t.Context(), alpha); err != nil {
			t.Fatal(err)
		}
		after := get(t, in, &v1beta1.ClusterPropagation{})
		want := betaWithDefaults(in)
		want.Spec.ConflictPolicy = v1beta1.ConflictOverwrite
		if !equality.Semantic.DeepEqual(after.Spec, want.Spec) {
			t.Errorf("after a v1alpha1 update:\n%s", diff.Diff(want.Spec, after.Spec))
		}
		if _, ok := after.Annotations[v1alpha1.AnnotationConversionData]; ok {
			t.Errorf("the stored object keeps %s", v1alpha1.AnnotationConversionData)
		}
	})
	t.Run("a v1alpha1 edit of the key sets replaces the rules", func(t *testing.T) {
		in := betaCP("edited-keys")
		if err := c.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		alpha := get(t, in, &v1alpha1.ClusterPropagation{})
		alpha.Spec.Template.IncludeKeys = []v1alpha1.KeyPattern{".dockerconfigjson"}
		if err := c.Update(t.Context(), alpha); err != nil {
			t.Fatal(err)
		}
		beta := get(t, in, &v1beta1.ClusterPropagation{})
		if want := []v1beta1.KeyRule{{Include: []v1beta1.KeyPattern{".dockerconfigjson"}}}; !equality.Semantic.DeepEqual(beta.Spec.Template.Keys, want) {
			t.Errorf("keys %+v, want %+v", beta.Spec.Template.Keys, want)
		}
		if beta.Spec.Template.NamePrefix != "mirrored-" || beta.Spec.Template.SecretType != "kubernetes.io/dockerconfigjson" {
			t.Errorf("the fields v1alpha1 did not touch are lost: %+v", beta.Spec.Template)
		}
	})
	t.Run("status written through v1alpha1 reads through v1beta1", func(t *testing.T) {
		in := alphaCP("status")
		if err := c.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		in.Status = v1alpha1.PropagationStatus{ObservedGeneration: 1, Desired: 3, Synced: 2, Failed: 1,
			Failures:   []v1alpha1.TargetFailure{{Namespace: "team-a", Name: "platform-ca", Reason: "Forbidden", Message: "no access"}},
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Failing", Message: "1 of 3 failed", LastTransitionTime: metav1.Now()}}}
		if err := c.Status().Update(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		beta := get(t, in, &v1beta1.ClusterPropagation{})
		if beta.Status.Desired != 3 || beta.Status.Synced != 2 || len(beta.Status.Failures) != 1 || beta.Status.Failures[0].Reason != "Forbidden" ||
			len(beta.Status.Conditions) != 1 || beta.Status.Conditions[0].Message != "1 of 3 failed" {
			t.Errorf("v1beta1 status %+v", beta.Status)
		}
	})
	t.Run("Propagations, and lists through both versions", func(t *testing.T) {
		p := &v1beta1.Propagation{
			ObjectMeta: metav1.ObjectMeta{Name: "alias", Namespace: "default"},
			Spec: v1beta1.PropagationSpec{
				Sources:  []v1beta1.SourceReference{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"}},
				Template: &v1beta1.CopyTemplate{NameSuffix: "-alias"},
			},
		}
		if err := c.Create(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		var alphas v1alpha1.PropagationList
		var betas v1beta1.PropagationList
		if err := c.List(t.Context(), &alphas, client.InNamespace("default")); err != nil {
			t.Fatal(err)
		}
		if err := c.List(t.Context(), &betas, client.InNamespace("default")); err != nil {
			t.Fatal(err)
		}
		alpha := slices.IndexFunc(alphas.Items, func(p v1alpha1.Propagation) bool { return p.Name == "alias" })
		beta := slices.IndexFunc(betas.Items, func(p v1beta1.Propagation) bool { return p.Name == "alias" })
		if len(alphas.Items) != len(betas.Items) || alpha < 0 || beta < 0 || betas.Items[beta].Spec.Template.NameSuffix != "-alias" ||
			!strings.Contains(alphas.Items[alpha].Annotations[v1alpha1.AnnotationConversionData], `"nameSuffix":"-alias"`) {
			t.Errorf("lists: v1alpha1 %+v, v1beta1 %+v", alphas.Items, betas.Items)
		}
	})
}

// TestV1beta1Validation checks v1beta1's admission rules on the API server.
func TestV1beta1Validation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*v1beta1.ClusterPropagation)
		want   string
	}{
		{"an alias needs another name", func(p *v1beta1.ClusterPropagation) { p.Spec.Template = nil },
			"targets.sourceNamespace Include needs template.name, namePrefix or nameSuffix"},
		{"a rule sets one field", func(p *v1beta1.ClusterPropagation) {
			p.Spec.Template.Keys = []v1beta1.KeyRule{{Include: []v1beta1.KeyPattern{"a"}, Exclude: []v1beta1.KeyPattern{"b"}}}
		}, "each key rule sets exactly one of include, exclude and rename"},
		{"a rename renames", func(p *v1beta1.ClusterPropagation) {
			p.Spec.Template.Keys = []v1beta1.KeyRule{{Rename: &v1beta1.KeyRename{From: "a", To: "a"}}}
		}, "rename.from and rename.to must differ"},
		{"a Secret type needs Secret sources", func(p *v1beta1.ClusterPropagation) { p.Spec.Sources[0].Kind = "ConfigMap" },
			"template.secretType applies only to v1 Secret sources"},
		{"name excludes a prefix", func(p *v1beta1.ClusterPropagation) { p.Spec.Template.Name = "one" },
			"name (rename one source) and namePrefix/nameSuffix are mutually exclusive"},
		{"a prefix is a name's start", func(p *v1beta1.ClusterPropagation) { p.Spec.Template.NamePrefix = "-x" }, "spec.template.namePrefix"},
		{"an unknown sourceNamespace", func(p *v1beta1.ClusterPropagation) { p.Spec.Targets.SourceNamespace = "Sometimes" }, "Unsupported value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := betaCP("invalid")
			tc.mutate(p)
			err := c.Create(t.Context(), p)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want Invalid with %q", err, tc.want)
			}
		})
	}
}

// withDefaults is in as the API server stores it: the schema's defaults applied.
func withDefaults(in *v1alpha1.ClusterPropagation) *v1alpha1.ClusterPropagation {
	out := in.DeepCopy()
	if out.Spec.ConflictPolicy == "" {
		out.Spec.ConflictPolicy = v1alpha1.ConflictSkip
	}
	if out.Spec.DeletionPolicy == "" {
		out.Spec.DeletionPolicy = v1alpha1.DeletionDelete
	}
	return out
}

func betaWithDefaults(in *v1beta1.ClusterPropagation) *v1beta1.ClusterPropagation {
	out := in.DeepCopy()
	if out.Spec.ConflictPolicy == "" {
		out.Spec.ConflictPolicy = v1beta1.ConflictSkip
	}
	if out.Spec.DeletionPolicy == "" {
		out.Spec.DeletionPolicy = v1beta1.DeletionDelete
	}
	if out.Spec.Targets.SourceNamespace == "" {
		out.Spec.Targets.SourceNamespace = v1beta1.SourceNamespaceExclude
	}
	return out
}

// TestCRDsConvertThroughTheWebhook checks what the suite relies on: after the
// upgrade the API server converts courier.dev objects by calling the webhook, and
// stores v1beta1.
func TestCRDsConvertThroughTheWebhook(t *testing.T) {
	ac := crdClient(t)
	for _, name := range courierCRDs {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := ac.Get(t.Context(), client.ObjectKey{Name: name}, &crd); err != nil {
			t.Fatal(err)
		}
		if crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy != apiextensionsv1.WebhookConverter {
			t.Errorf("%s converts with %+v, want the webhook", name, crd.Spec.Conversion)
		}
		if storage := crd.Spec.Versions[len(crd.Spec.Versions)-1]; storage.Name != "v1beta1" || !storage.Storage {
			t.Errorf("%s: the last version is %s (storage %t), want v1beta1 stored", name, storage.Name, storage.Storage)
		}
	}
}
