package migrate

import (
	"regexp"
	"strings"
	"testing"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestDNSName(t *testing.T) {
	cases := map[string][]string{
		"secret-platform-registry-pull": {"Secret", "platform", "registry-pull"},
		"configmap-a-b-c":               {"configmap", "a", "b.c"},
		"clusterpolicy-p-rule-1":        {"clusterpolicy", "p", "Rule_1"},
		"migrated":                      {"--", ".."},
	}
	for want, parts := range cases {
		if got := dnsName(parts...); got != want {
			t.Errorf("dnsName(%q) = %q, want %q", parts, got, want)
		}
	}
	long := strings.Repeat("a", 60)
	x, y := dnsName("secret", "ns", long+"x"), dnsName("secret", "ns", long+"y")
	for _, n := range []string{x, y} {
		if len(n) > maxNameLength || !dnsLabel.MatchString(n) {
			t.Errorf("%q is no DNS label of at most 63 characters", n)
		}
	}
	if x == y {
		t.Errorf("two long names that differ at the end collide: %q", x)
	}
	if dnsName("secret", "ns", long+"x") != x {
		t.Error("not deterministic")
	}
}

func TestClaimNameKeepsIdentitiesApart(t *testing.T) {
	b, err := newBuilder(nil)
	if err != nil {
		t.Fatal(err)
	}
	first := b.claimName(kindClusterPropagation, "", "secret-a-b", "replicator/a/b")
	second := b.claimName(kindClusterPropagation, "", "secret-a-b", "reflector/a/b")
	other := b.claimName(kindPropagation, "ns", "secret-a-b", "reflector/a/b")
	if first != "secret-a-b" || second == first || !dnsLabel.MatchString(second) || other != "secret-a-b" {
		t.Errorf("names %q, %q, %q", first, second, other)
	}
	if again := b.claimName(kindClusterPropagation, "", "secret-a-b", "replicator/a/b"); again != first {
		t.Errorf("the same identity got %q, then %q", first, again)
	}
}
