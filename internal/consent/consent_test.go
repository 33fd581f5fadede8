package consent

import (
	"strings"
	"testing"

	"github.com/courier-operator/courier/api/v1alpha1"
)

func TestCheck(t *testing.T) {
	const names, sel = v1alpha1.AnnotationShareWithNamespaces, v1alpha1.AnnotationShareWithNamespaceSelector
	prod := map[string]string{"tier": "prod"}
	cases := []struct {
		name     string
		ann      map[string]string
		ns       string
		nsLabels map[string]string
		want     bool
		msg      string
	}{
		{"no annotations", nil, "team-a", nil, false, "neither"},
		{"glob match", map[string]string{names: "team-*,web"}, "team-a", nil, true, ""},
		{"exact match with spaces", map[string]string{names: " web , api "}, "api", nil, true, ""},
		{"glob miss", map[string]string{names: "team-*"}, "web", nil, false, "matches neither"},
		{"selector match", map[string]string{sel: "tier=prod"}, "x", prod, true, ""},
		{"selector miss", map[string]string{sel: "tier=prod"}, "x", map[string]string{"tier": "dev"}, false, "matches neither"},
		{"either suffices", map[string]string{names: "web", sel: "tier=prod"}, "x", prod, true, ""},
		{"empty list", map[string]string{names: " , "}, "x", nil, false, "is empty"},
		{"bad selector", map[string]string{sel: "tier in (("}, "x", prod, false, "not a valid label selector"},
		{"empty selector annotation", map[string]string{sel: ""}, "x", prod, false, "is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, msg := Check(c.ann, c.ns, c.nsLabels)
			if got != c.want {
				t.Fatalf("Check = %v (%s), want %v", got, msg, c.want)
			}
			if !strings.Contains(msg, c.msg) {
				t.Fatalf("message %q does not contain %q", msg, c.msg)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that a successful parse without
// consent never allows anything.
func FuzzParse(f *testing.F) {
	f.Add("team-*,web", "tier=prod", "team-a", "prod")
	f.Add("", "", "", "")
	f.Add(",,,", "a in (b,c)", "x", "b")
	f.Fuzz(func(t *testing.T, names, selector, ns, tier string) {
		ann := map[string]string{}
		if names != "" {
			ann[v1alpha1.AnnotationShareWithNamespaces] = names
		}
		if selector != "" {
			ann[v1alpha1.AnnotationShareWithNamespaceSelector] = selector
		}
		c, err := Parse(ann)
		if err != nil {
			if ok, _ := Check(ann, ns, map[string]string{"tier": tier}); ok {
				t.Fatal("an invalid consent allowed a pull")
			}
			return
		}
		if !c.Given() && c.Allows(ns, map[string]string{"tier": tier}) {
			t.Fatal("no consent allowed a pull")
		}
	})
}

// TestMalformedPatternsAreReportedAsSuch: "[[[" is no namespace glob; a refusal
// must say the annotation is malformed, not only that the namespace does not match.
func TestMalformedPatternsAreReportedAsSuch(t *testing.T) {
	only := map[string]string{v1alpha1.AnnotationShareWithNamespaces: "[[["}
	ok, why := Check(only, "team-a", nil)
	if ok || !strings.Contains(why, "malformed") || !strings.Contains(why, `"[[["`) {
		t.Fatalf("Check = %v, %q", ok, why)
	}
	mixed := map[string]string{v1alpha1.AnnotationShareWithNamespaces: "team-*, Team_B, [[["}
	if ok, why := Check(mixed, "team-a", nil); !ok || why != "" {
		t.Fatalf("a valid pattern that matches must still allow: %v %q", ok, why)
	}
	ok, why = Check(mixed, "web", nil)
	if ok || !strings.Contains(why, "matches neither") || !strings.Contains(why, `"Team_B", "[[["`) || !strings.Contains(why, "are ignored") {
		t.Fatalf("Check = %v, %q", ok, why)
	}
	c, err := Parse(mixed)
	if err != nil || len(c.Patterns) != 1 || len(c.Invalid) != 2 {
		t.Fatalf("Parse = %+v, %v", c, err)
	}
	many := map[string]string{v1alpha1.AnnotationShareWithNamespaces: "A,B,C,D,E,F,G"}
	if _, why := Check(many, "web", nil); !strings.Contains(why, "and 2 more") {
		t.Fatalf("Check = %q", why)
	}
}
