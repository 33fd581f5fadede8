package consent

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/glob"
)

// FuzzCheck checks Check, the decision every pull goes through, against an
// independent reading of the two annotations: a pull is allowed only when both
// annotations present are well formed and the namespace matches a pattern (by
// glob.Match) or the selector (by labels.Parse); a refusal always says why.
func FuzzCheck(f *testing.F) {
	f.Add(true, "team-*,web", true, "tier=prod", "team-a", "tier", "prod")
	f.Add(true, " , ", false, "", "web", "tier", "prod")
	f.Add(false, "", true, "tier in (prod,staging),!legacy", "web", "tier", "staging")
	f.Add(true, "*", true, "tier in (", "anything", "", "")
	f.Add(false, "", false, "", "default", "tier", "prod")
	f.Add(true, "?eb", true, "", "web", "a", "b")
	f.Fuzz(func(t *testing.T, hasNames bool, names string, hasSel bool, sel, ns, labelKey, labelValue string) {
		ann := map[string]string{"unrelated": names}
		if hasNames {
			ann[v1alpha1.AnnotationShareWithNamespaces] = names
		}
		if hasSel {
			ann[v1alpha1.AnnotationShareWithNamespaceSelector] = sel
		}
		nsLabels := map[string]string{labelKey: labelValue}
		ok, why := Check(ann, ns, nsLabels)

		// The independent reading.
		want := true
		var patterns []string
		if hasNames {
			for _, p := range strings.Split(names, ",") {
				if p = strings.TrimSpace(p); p != "" {
					patterns = append(patterns, p)
				}
			}
			want = want && len(patterns) > 0
		}
		var selector labels.Selector
		if hasSel {
			s, err := labels.Parse(sel)
			want = want && strings.TrimSpace(sel) != "" && err == nil
			selector = s
		}
		want = want && (hasNames || hasSel)
		if want {
			want = glob.MatchAny(patterns, ns) || (selector != nil && selector.Matches(labels.Set(nsLabels)))
		}
		if ok != want {
			t.Fatalf("Check(names=%v:%q, selector=%v:%q) for %q %v = %v (%s), want %v", hasNames, names, hasSel, sel, ns, nsLabels, ok, why, want)
		}
		if !ok && why == "" {
			t.Fatal("a refusal without a reason")
		}
		if ok && why != "" {
			t.Fatalf("an allowed pull with a refusal reason %q", why)
		}
	})
}
