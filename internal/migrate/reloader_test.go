package migrate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/courier-operator/courier/controllers/rollout"
)

// deployment renders a Deployment in namespace shop with the given annotations
// (YAML map entries) and pod spec (YAML under spec.template.spec).
func deployment(name, annotations, podSpec string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: shop
  annotations: {%s}
spec:
  template:
    spec:
%s
---
`, name, annotations, indent(podSpec, 6))
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

func input(kind, name, annotations string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata: {name: %s, namespace: shop, annotations: {%s}}\n---\n", kind, name, annotations)
}

const envFromAppAndDB = `containers:
- name: app
  envFrom:
  - configMapRef: {name: app-config}
  - secretRef: {name: db-creds}`

// TestReloaderFollowsWhatReloaderFollows: for each combination of Reloader's
// workload annotations, the opt-in and the extra and exclude references that make
// Courier follow exactly the inputs Reloader rolled the workload for.
func TestReloaderFollowsWhatReloaderFollows(t *testing.T) {
	inputs := input("ConfigMap", "app-config", "") + input("ConfigMap", "flags-a", "") + input("ConfigMap", "flags-b", "") +
		input("ConfigMap", "other", "") + input("Secret", "db-creds", "") + input("Secret", "api-keys", `reloader.stakater.com/match: "true"`) +
		input("ConfigMap", "quiet", `reloader.stakater.com/ignore: "true"`)
	cases := []struct {
		name, annotations, podSpec string
		optIn                      bool
		extra, exclude             string
	}{
		{name: "auto", annotations: `reloader.stakater.com/auto: "true"`, podSpec: envFromAppAndDB, optIn: true},
		{name: "auto with nothing referenced yet", annotations: `reloader.stakater.com/auto: "true"`, podSpec: "containers:\n- name: app", optIn: true},
		{name: "auto false", annotations: `reloader.stakater.com/auto: "false"`, podSpec: envFromAppAndDB},
		{name: "secrets only", annotations: `secret.reloader.stakater.com/auto: "true"`, podSpec: envFromAppAndDB,
			optIn: true, exclude: "configmap/app-config"},
		{name: "configmaps only", annotations: `configmap.reloader.stakater.com/auto: "True"`, podSpec: envFromAppAndDB,
			optIn: true, exclude: "secret/db-creds"},
		{name: "typed autos together", annotations: `configmap.reloader.stakater.com/auto: "true", secret.reloader.stakater.com/auto: "true"`,
			podSpec: envFromAppAndDB, optIn: true},
		{name: "reload lists follow only the listed", annotations: `configmap.reloader.stakater.com/reload: "app-config, other", secret.reloader.stakater.com/reload: "api-keys"`,
			podSpec: envFromAppAndDB, optIn: true, extra: "configmap/other,secret/api-keys", exclude: "secret/db-creds"},
		{name: "reload list pattern expands", annotations: `configmap.reloader.stakater.com/reload: "flags-.*"`,
			podSpec: envFromAppAndDB, optIn: true, extra: "configmap/flags-a,configmap/flags-b", exclude: "configmap/app-config,secret/db-creds"},
		{name: "auto with a list adds to it", annotations: `reloader.stakater.com/auto: "true", configmap.reloader.stakater.com/reload: "other"`,
			podSpec: envFromAppAndDB, optIn: true, extra: "configmap/other"},
		{name: "excludes", annotations: `reloader.stakater.com/auto: "true", configmaps.exclude.reloader.stakater.com/reload: "app-config", secrets.exclude.reloader.stakater.com/reload: " db-creds "`,
			podSpec: envFromAppAndDB + "\n  - secretRef: {name: api-keys}", optIn: true, exclude: "configmap/app-config,secret/db-creds"},
		{name: "an exclusion beats the list", annotations: `configmap.reloader.stakater.com/reload: "app-config", configmaps.exclude.reloader.stakater.com/reload: "app-config"`,
			podSpec: envFromAppAndDB},
		{name: "search follows matched inputs", annotations: `reloader.stakater.com/search: "true"`,
			podSpec: envFromAppAndDB + "\n  - secretRef: {name: api-keys}", optIn: true, exclude: "configmap/app-config,secret/db-creds"},
		{name: "auto beats search", annotations: `reloader.stakater.com/search: "true", reloader.stakater.com/auto: "true"`,
			podSpec: envFromAppAndDB, optIn: true},
		{name: "ignore on an input", annotations: `reloader.stakater.com/auto: "true"`,
			podSpec: envFromAppAndDB + "\n  - configMapRef: {name: quiet}", optIn: true, exclude: "configmap/quiet"},
		{name: "ignored input listed", annotations: `configmap.reloader.stakater.com/reload: "quiet,app-config"`,
			podSpec: envFromAppAndDB, optIn: true, exclude: "secret/db-creds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := convert(t, decodeObjects(t, inputs+deployment("w", tc.annotations, tc.podSpec)))
			c := changeOf(t, p, "Deployment", "shop", "w", PeerReloader)
			if got := c.SetLabels[rollout.LabelOptIn] == "true"; got != tc.optIn {
				t.Fatalf("opted in = %v, want %v (change %+v)", got, tc.optIn, c)
			}
			if got := c.SetAnnotations[rollout.AnnotationExtraRefs]; got != tc.extra {
				t.Errorf("extra refs = %q, want %q", got, tc.extra)
			}
			if got := c.SetAnnotations[rollout.AnnotationExcludeRefs]; got != tc.exclude {
				t.Errorf("exclude refs = %q, want %q", got, tc.exclude)
			}
			for _, k := range c.RemoveAnnotations {
				if !strings.Contains(k, "reloader.stakater.com/") {
					t.Errorf("removes %s, which is no Reloader annotation", k)
				}
			}
			if len(c.RemoveAnnotations) == 0 {
				t.Error("no Reloader annotation removed")
			}
		})
	}
}

func TestReloaderPatternWithoutInputsIsAFinding(t *testing.T) {
	p := convert(t, decodeObjects(t, deployment("w", `configmap.reloader.stakater.com/reload: "app-.*,app-config"`, envFromAppAndDB)))
	c := changeOf(t, p, "Deployment", "shop", "w", PeerReloader)
	if c.SetAnnotations[rollout.AnnotationExcludeRefs] != "secret/db-creds" || c.SetAnnotations[rollout.AnnotationExtraRefs] != "" {
		t.Errorf("change %+v: want app-config followed, db-creds excluded", c)
	}
	if !hasFinding(findingsOf(p, "shop", "w", "configmap.reloader.stakater.com/reload"), SeverityUnsupported, `"app-.*"`, "left out") {
		t.Errorf("no unsupported finding for the pattern: %+v", p.Findings)
	}
}

func TestReloaderTemplateAnnotationsAndStrategy(t *testing.T) {
	doc := `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r, namespace: shop, annotations: {reloader.stakater.com/rollout-strategy: restart}}
spec:
  template:
    metadata:
      annotations: {secret.reloader.stakater.com/auto: "true"}
    spec:
` + indent(envFromAppAndDB, 6) + "\n"
	p := convert(t, decodeObjects(t, doc))
	c := changeOf(t, p, "Rollout", "shop", "r", PeerReloader)
	if c.SetAnnotations[rollout.AnnotationStrategy] != "restart" || c.SetAnnotations[rollout.AnnotationExcludeRefs] != "configmap/app-config" {
		t.Errorf("change %+v: want strategy restart and the ConfigMap excluded", c)
	}
	if !slices.Equal(c.RemoveTemplateAnnotations, []string{"secret.reloader.stakater.com/auto"}) ||
		!slices.Equal(c.RemoveAnnotations, []string{"reloader.stakater.com/rollout-strategy"}) {
		t.Errorf("removals %v / %v", c.RemoveAnnotations, c.RemoveTemplateAnnotations)
	}
	if !hasFinding(findingsOf(p, "shop", "r", ""), SeverityApproximate, "removeTemplateAnnotations", "rolls the pods once") {
		t.Errorf("no finding about the pod-template annotations: %+v", p.Findings)
	}
}

// TestReloaderReadsTheTemplatePerKind: Reloader falls back to the pod template's
// annotations for one kind of input when the workload has none of the keys that
// decide that kind, whatever it has for the other kind.
func TestReloaderReadsTheTemplatePerKind(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata: {name: w, namespace: shop, annotations: {secret.reloader.stakater.com/auto: "true"}}
spec:
  template:
    metadata:
      annotations: {configmap.reloader.stakater.com/auto: "true"}
    spec:
` + indent(envFromAppAndDB, 6) + "\n"
	c := changeOf(t, convert(t, decodeObjects(t, doc)), "Deployment", "shop", "w", PeerReloader)
	// For ConfigMaps the workload has none of the deciding keys (the typed auto is
	// the Secret one), so the template's configmap auto counts: both followed.
	if c.SetAnnotations[rollout.AnnotationExcludeRefs] != "" {
		t.Errorf("change %+v: want nothing excluded", c)
	}
}
