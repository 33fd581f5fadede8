package migrate

import (
	"strings"
	"testing"
)

func clusterPolicy(rule string) string {
	return "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n" + indent(rule, 2) + "\n"
}

const cloneRegcred = `generate:
  apiVersion: v1
  kind: Secret
  name: regcred
  namespace: "{{request.object.metadata.name}}"
  synchronize: true
  clone: {namespace: default, name: regcred}`

func TestKyvernoRules(t *testing.T) {
	cases := []struct {
		name, rule string
		want       []string // lines of the ClusterPropagation's spec; none: nothing converted
		finding    string   // part of the message of an unsupported finding
	}{
		{
			name: "every namespace",
			rule: "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n" + indent(cloneRegcred, 2),
			want: []string{"namespaceSelector: {}", "name: regcred"},
		},
		{
			name: "names and a namespace selector (legacy match form)",
			rule: "- name: r\n  match: {resources: {kinds: [Namespace], names: [\"team-*\"], namespaceSelector: {matchLabels: {tier: prod}}}}\n" + indent(cloneRegcred, 2),
			want: []string{"- team-*", "tier: prod"},
		},
		{
			name: "all of two filters",
			rule: "- name: r\n  match: {all: [{resources: {kinds: [Namespace], names: [\"team-*\"]}}, {resources: {kinds: [Namespace], selector: {matchLabels: {a: b}}}}]}\n" + indent(cloneRegcred, 2),
			want: []string{"- team-*", "a: b"},
		},
		{
			name: "exclude by names and by a single expression",
			rule: "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n  exclude: {any: [{resources: {namespaces: [kube-*]}}, {resources: {kinds: [Namespace], selector: {matchExpressions: [{key: skip, operator: Exists}]}}}]}\n" + indent(cloneRegcred, 2),
			want: []string{"excludeNamespaces:\n  - kube-*", "operator: DoesNotExist"},
		},
		{
			name: "exclude of another kind is no exclusion",
			rule: "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n  exclude: {any: [{resources: {kinds: [Pod], namespaces: [kube-*]}}]}\n" + indent(cloneRegcred, 2),
			want: []string{"namespaceSelector: {}"},
		},
		{
			name:    "synchronize false",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n" + indent(strings.Replace(cloneRegcred, "synchronize: true", "synchronize: false", 1), 2),
			finding: "copies once",
		},
		{
			name:    "data",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n  generate: {apiVersion: v1, kind: ConfigMap, name: c, namespace: \"{{request.object.metadata.name}}\", synchronize: true, data: {data: {k: v}}}",
			finding: "create that ConfigMap",
		},
		{
			name:    "exclude by selector of two requirements",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n  exclude: {any: [{resources: {kinds: [Namespace], selector: {matchLabels: {a: b, c: d}}}}]}\n" + indent(cloneRegcred, 2),
			finding: "several requirements",
		},
		{
			name:    "exclude by role",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n  exclude: {any: [{clusterRoles: [cluster-admin]}]}\n" + indent(cloneRegcred, 2),
			finding: "clusterRoles",
		},
		{
			name:    "match by annotations",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace], annotations: {a: b}}}]}\n" + indent(cloneRegcred, 2),
			finding: "annotations",
		},
		{
			name:    "match on updates only",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace], operations: [UPDATE]}}]}\n" + indent(cloneRegcred, 2),
			finding: "UPDATE only",
		},
		{
			name:    "a variable source",
			rule:    "- name: r\n  match: {any: [{resources: {kinds: [Namespace]}}]}\n" + indent(strings.Replace(cloneRegcred, "name: regcred}", "name: \"{{request.object.metadata.labels.secret}}\"}", 1), 2),
			finding: "not a fixed",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := convert(t, decodeObjects(t, clusterPolicy(tc.rule)))
			if tc.want == nil {
				if len(p.Objects) != 0 {
					t.Fatalf("want nothing converted, got %s", specOf(t, p.Objects[0]))
				}
				if !hasFinding(p.Findings, SeverityUnsupported, tc.finding) {
					t.Fatalf("no unsupported finding with %q: %+v", tc.finding, p.Findings)
				}
				return
			}
			spec := specOf(t, objectNamed(t, p, "ClusterPropagation", "", "clusterpolicy-p-r"))
			for _, w := range tc.want {
				if !strings.Contains(spec, w) {
					t.Errorf("spec lacks %q:\n%s", w, spec)
				}
			}
		})
	}
}
