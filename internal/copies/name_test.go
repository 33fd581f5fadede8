package copies

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// widget is a source of a kind with no keyed data and no name rules of its own.
func widget(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": "src"},
		"spec":     map[string]any{"size": int64(3)},
	}}
}

func TestCopyName(t *testing.T) {
	cases := []struct{ name, prefix, suffix, source, want string }{
		{"", "", "", "creds", "creds"},
		{"renamed", "", "", "creds", "renamed"},
		{"", "team-", "", "creds", "team-creds"},
		{"", "", "-copy", "creds", "creds-copy"},
		{"", "team-", "-copy", "creds", "team-creds-copy"},
		{"renamed", "a-", "-b", "creds", "a-renamed-b"},
	}
	for _, c := range cases {
		if got := CopyName(c.name, c.prefix, c.suffix, c.source); got != c.want {
			t.Errorf("CopyName(%q, %q, %q, %q) = %q, want %q", c.name, c.prefix, c.suffix, c.source, got, c.want)
		}
	}
}

func TestBuildCopyName(t *testing.T) {
	long := strings.Repeat("n", 250)
	cases := []struct {
		name                   string
		src                    *unstructured.Unstructured
		namespace              string
		rename, prefix, suffix string
		want, reason, mention  string
	}{
		{name: "prefix and suffix", src: secret("Opaque", nil, nil, nil), prefix: "team-", suffix: "-copy", want: "team-creds-copy"},
		{name: "prefix on a rename", src: secret("Opaque", nil, nil, nil), rename: "db", prefix: "x.", want: "x.db"},
		// 2 + 243 + 8 = 253 characters: the limit itself is fine.
		{name: "exactly 253", src: secret("Opaque", nil, nil, nil), rename: long[:243], prefix: "p-", suffix: "-suffix1", want: "p-" + long[:243] + "-suffix1"},
		{name: "secret too long", src: secret("Opaque", nil, nil, nil), rename: long, suffix: "-copy", reason: ReasonInvalidCopyName, mention: "253"},
		{name: "secret invalid character", src: secret("Opaque", nil, nil, nil), suffix: "_Copy", reason: ReasonInvalidCopyName, mention: "creds_Copy"},
		{name: "configmap invalid character", src: configMap(nil, nil), rename: "a:b", reason: ReasonInvalidCopyName, mention: "a:b"},
		{name: "other kind allows a colon", src: widget("w"), suffix: ":v2", want: "w:v2"},
		{name: "other kind too long", src: widget("w"), rename: long, suffix: "-copy", reason: ReasonInvalidCopyName, mention: "253"},
		{name: "other kind slash", src: widget("w"), suffix: "/x", reason: ReasonInvalidCopyName, mention: "w/x"},
		{name: "other kind percent", src: widget("w"), prefix: "%", reason: ReasonInvalidCopyName, mention: "%w"},
		{name: "other kind dot-dot", src: widget(".."), reason: ReasonInvalidCopyName, mention: `".."`},
		{name: "other kind empty", src: widget(""), reason: ReasonInvalidCopyName, mention: "empty"},
		// An alias: a copy in the source's own namespace, under another name.
		{name: "alias with a suffix", src: secret("Opaque", nil, nil, nil), namespace: "src", suffix: "-alias", want: "creds-alias"},
		{name: "alias with a rename", src: configMap(nil, nil), namespace: "src", rename: "other", want: "other"},
		{name: "copy onto its source", src: secret("Opaque", nil, nil, nil), namespace: "src", reason: ReasonCopyIsSource, mention: "src/creds"},
		{name: "rename onto its source", src: widget("w"), namespace: "src", rename: "w", reason: ReasonCopyIsSource, mention: "src/w"},
		{name: "same name elsewhere", src: secret("Opaque", nil, nil, nil), namespace: "team-a", want: "creds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp := tmpl
			if tc.namespace != "" {
				tp.Namespace = tc.namespace
			}
			tp.Name, tp.NamePrefix, tp.NameSuffix = tc.rename, tc.prefix, tc.suffix
			got, err := Build(tc.src, tp)
			if r := reasonOf(t, err); r != tc.reason {
				t.Fatalf("reason = %q (%v), want %q", r, err, tc.reason)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.mention) {
					t.Errorf("message %q does not mention %q", err, tc.mention)
				}
				return
			}
			if got.GetName() != tc.want || got.GetNamespace() != tp.Namespace {
				t.Errorf("copy is %s/%s, want %s/%s", got.GetNamespace(), got.GetName(), tp.Namespace, tc.want)
			}
			if got.GetName() != CopyName(tp.Name, tp.NamePrefix, tp.NameSuffix, tc.src.GetName()) {
				t.Errorf("Build and CopyName disagree")
			}
		})
	}
}
