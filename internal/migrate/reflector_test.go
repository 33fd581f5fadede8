package migrate

import (
	"strings"
	"testing"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// TestReflectorAutoIsTheIntersection: automatic mirrors go where both the auto and
// the allowed conditions hold.
func TestReflectorAutoIsTheIntersection(t *testing.T) {
	cases := []struct {
		name, annotations string
		want              []string // lines the ClusterPropagation's spec holds
		absent            []string
	}{
		{
			name:        "allowed everywhere, auto by names",
			annotations: `reflector.v1.k8s.emberstack.com/reflection-auto-namespaces: "team-a,web-.*"`,
			want:        []string{"- team-a", "- web-*"},
		},
		{
			name:        "auto everywhere, allowed by names",
			annotations: `reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces: "team-.*"`,
			want:        []string{"- team-*"},
		},
		{
			name:        "names within names",
			annotations: `reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces: "team-.*", reflector.v1.k8s.emberstack.com/reflection-auto-namespaces: "team-a,other"`,
			want:        []string{"- team-a"},
			absent:      []string{"other", "team-*"},
		},
		{
			name:        "names and a selector",
			annotations: `reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces-selector: "env=prod", reflector.v1.k8s.emberstack.com/reflection-auto-namespaces: "team-a"`,
			want:        []string{"- team-a", "env: prod"},
		},
		{
			name:        "everywhere",
			annotations: "",
			want:        []string{"namespaceSelector: {}"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ann := `reflector.v1.k8s.emberstack.com/reflection-allowed: "true", reflector.v1.k8s.emberstack.com/reflection-auto-enabled: "true"`
			if tc.annotations != "" {
				ann += ", " + tc.annotations
			}
			p := convert(t, decodeObjects(t, secretWith("platform", "s", ann)))
			spec := specOf(t, objectNamed(t, p, "ClusterPropagation", "", "secret-platform-s"))
			for _, w := range tc.want {
				if !strings.Contains(spec, w) {
					t.Errorf("spec lacks %q:\n%s", w, spec)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(spec, a) {
					t.Errorf("spec holds %q:\n%s", a, spec)
				}
			}
			if !hasFinding(findingsOf(p, "platform", "s", "reflector.v1.k8s.emberstack.com/reflection-auto-enabled"), SeverityUnsafe, "cluster admin must create") {
				t.Errorf("no unsafe push finding: %+v", p.Findings)
			}
		})
	}
}

// TestReflectorOpenConsentIsNarrowed: consent to every namespace becomes consent
// to the namespaces that mirror the source now, with an unsafe finding; an
// automatic mirror is no pull.
func TestReflectorOpenConsentIsNarrowed(t *testing.T) {
	doc := secretWith("platform", "s", `reflector.v1.k8s.emberstack.com/reflection-allowed: "true"`) +
		secretWith("team-a", "s", `reflector.v1.k8s.emberstack.com/reflects: platform/s`) +
		secretWith("team-c", "s-copy", `reflector.v1.k8s.emberstack.com/reflects: platform/s`) +
		secretWith("team-b", "s", `reflector.v1.k8s.emberstack.com/reflects: platform/s, reflector.v1.k8s.emberstack.com/auto-reflects: "true"`)
	p := convert(t, decodeObjects(t, doc))
	if got := changeOf(t, p, "Secret", "platform", "s", PeerReflector).SetAnnotations[v1alpha1.AnnotationShareWithNamespaces]; got != "team-a,team-c" {
		t.Errorf("consent %q, want team-a,team-c", got)
	}
	if !hasFinding(findingsOf(p, "platform", "s", ""), SeverityUnsafe, "every namespace", "narrowed") {
		t.Errorf("no unsafe finding: %+v", p.Findings)
	}
	objectNamed(t, p, "Propagation", "team-a", "secret-platform-s")
	objectNamed(t, p, "Propagation", "team-c", "secret-platform-s")
	for _, o := range p.Objects {
		if o.GetNamespace() == "team-b" {
			t.Errorf("an automatic mirror became a pull: %s", o.GetName())
		}
	}
}
