package migrate

import (
	"strings"
	"testing"

	"github.com/courier-operator/courier/api/v1alpha1"
)

const replicatorNamespaces = `apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: app-ns-1}
---
apiVersion: v1
kind: Namespace
metadata: {name: app-ns-22}
---
apiVersion: v1
kind: Namespace
metadata: {name: app-ns-x}
---
`

func secretWith(ns, name, annotations string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns + ", annotations: {" + annotations + "}}\n---\n"
}

// TestReplicatorPushIsAnAdminObjectAndAnUnsafeFinding: a push needed no consent in
// the replicator; it becomes a ClusterPropagation and an unsafe finding.
func TestReplicatorPushIsAnAdminObjectAndAnUnsafeFinding(t *testing.T) {
	p := convert(t, decodeObjects(t, secretWith("platform", "token", `replicator.v1.mittwald.de/replicate-to: "team-a, ^prod$, team-.*"`)))
	cp := objectNamed(t, p, "ClusterPropagation", "", "secret-platform-token")
	spec := specOf(t, cp)
	for _, want := range []string{"conflictPolicy: Adopt", "- prod", "- team-*", "name: token", "namespace: platform"} {
		if !strings.Contains(spec, want) {
			t.Errorf("spec lacks %q:\n%s", want, spec)
		}
	}
	if strings.Contains(spec, "- team-a") {
		t.Errorf("team-a is covered by team-* and should not be listed:\n%s", spec)
	}
	if !hasFinding(findingsOf(p, "platform", "token", "replicator.v1.mittwald.de/replicate-to"), SeverityUnsafe,
		"without those namespaces' consent", "cluster admin must create ClusterPropagation secret-platform-token") {
		t.Errorf("no unsafe finding for the push: %+v", p.Findings)
	}
	c := changeOf(t, p, "Secret", "platform", "token", PeerReplicator)
	if len(c.RemoveAnnotations) != 1 || c.RemoveAnnotations[0] != "replicator.v1.mittwald.de/replicate-to" {
		t.Errorf("removals %v", c.RemoveAnnotations)
	}
}

// TestReplicatorRegexExpands: a regex no glob expresses is expanded to the
// namespaces of the input it matches, with a finding; without Namespaces in the
// input it is left out, with a finding.
func TestReplicatorRegexExpands(t *testing.T) {
	src := secretWith("platform", "token", `replicator.v1.mittwald.de/replicate-to: "app-ns-[0-9]+"`)
	p := convert(t, decodeObjects(t, replicatorNamespaces+src))
	spec := specOf(t, objectNamed(t, p, "ClusterPropagation", "", "secret-platform-token"))
	if !strings.Contains(spec, "- app-ns-1\n") || !strings.Contains(spec, "- app-ns-22\n") || strings.Contains(spec, "app-ns-x") {
		t.Errorf("want app-ns-1 and app-ns-22 only:\n%s", spec)
	}
	if !hasFinding(p.Findings, SeverityApproximate, "expanded to the 2 namespaces", "created later") {
		t.Errorf("no expansion finding: %+v", p.Findings)
	}

	p = convert(t, decodeObjects(t, src))
	if len(p.Objects) != 0 {
		t.Errorf("nothing can be pushed without the namespaces, got %d objects", len(p.Objects))
	}
	if !hasFinding(p.Findings, SeverityUnsupported, "no Namespaces to expand it", "left out") {
		t.Errorf("no unsupported finding: %+v", p.Findings)
	}
	for _, c := range p.Changes {
		if len(c.RemoveAnnotations) > 0 {
			t.Errorf("an unconverted push must keep its annotation, got %+v", c)
		}
	}
}

// TestReplicatorPullNeedsConsent: a pull becomes a Propagation in the target's
// namespace, the source's consent becomes share-with-namespaces, and a pull the
// source never consented to is an unsafe finding without consent granted.
func TestReplicatorPullNeedsConsent(t *testing.T) {
	doc := secretWith("platform", "db", `replicator.v1.mittwald.de/replication-allowed: "true", replicator.v1.mittwald.de/replication-allowed-namespaces: "team-a,app-ns-.*"`) +
		secretWith("team-a", "db-copy", `replicator.v1.mittwald.de/replicate-from: platform/db`) +
		secretWith("platform", "quiet", "") +
		secretWith("team-a", "quiet", `replicator.v1.mittwald.de/replicate-from: platform/quiet`)
	p := convert(t, decodeObjects(t, doc))
	c := changeOf(t, p, "Secret", "platform", "db", PeerReplicator)
	if got := c.SetAnnotations[v1alpha1.AnnotationShareWithNamespaces]; got != "app-ns-*,team-a" {
		t.Errorf("consent %q", got)
	}
	spec := specOf(t, objectNamed(t, p, "Propagation", "team-a", "secret-platform-db"))
	if !strings.Contains(spec, "name: db-copy") || !strings.Contains(spec, "conflictPolicy: Adopt") {
		t.Errorf("want a rename to db-copy, adopting:\n%s", spec)
	}
	objectNamed(t, p, "Propagation", "team-a", "secret-platform-quiet")
	if !hasFinding(findingsOf(p, "team-a", "quiet", ""), SeverityUnsafe, "--allow-all", "does not grant it") {
		t.Errorf("no unsafe finding for the pull without consent: %+v", p.Findings)
	}
	for _, ch := range p.Changes {
		if ch.Object.Name == "quiet" && len(ch.SetAnnotations) > 0 {
			t.Errorf("consent granted on the owner's behalf: %+v", ch)
		}
	}
}

// TestConsentOfTwoPeersMerges: one source shared through both the replicator and
// Reflector gets one consent listing both peers' namespaces, in both Changes.
func TestConsentOfTwoPeersMerges(t *testing.T) {
	doc := secretWith("platform", "db", `replicator.v1.mittwald.de/replication-allowed: "true", replicator.v1.mittwald.de/replication-allowed-namespaces: "team-a",
reflector.v1.k8s.emberstack.com/reflection-allowed: "true", reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces: "team-b"`)
	p := convert(t, decodeObjects(t, doc))
	for _, peer := range []string{PeerReplicator, PeerReflector} {
		if got := changeOf(t, p, "Secret", "platform", "db", peer).SetAnnotations[v1alpha1.AnnotationShareWithNamespaces]; got != "team-a,team-b" {
			t.Errorf("%s: consent %q, want team-a,team-b", peer, got)
		}
	}
}
