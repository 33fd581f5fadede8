package copies

import (
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestSecretTypeOverride(t *testing.T) {
	const pw = "hunter2-SECRET"
	cases := []struct {
		name       string
		typ        string
		data       map[string]any
		stringData map[string]any
		keys       []KeyRule
		reason     string
		mention    []string // the error names these
	}{
		{name: "opaque needs nothing", typ: "Opaque"},
		{name: "unknown type needs nothing", typ: "example.com/custom", data: map[string]any{"x": b64(pw)}},

		{name: "dockercfg fits", typ: secretTypeDockercfg, data: map[string]any{".dockercfg": b64(`{"registry.example.com":{"auth":"` + pw + `"}}`)}},
		{name: "dockercfg missing", typ: secretTypeDockercfg, data: map[string]any{"config": b64(`{}`)},
			reason: ReasonSecretTypeMismatch, mention: []string{secretTypeDockercfg, ".dockercfg", "missing"}},
		{name: "dockercfg not JSON", typ: secretTypeDockercfg, data: map[string]any{".dockercfg": b64(pw)},
			reason: ReasonSecretTypeMismatch, mention: []string{".dockercfg", "JSON object"}},

		{name: "dockerconfigjson fits", typ: secretTypeDockerConfigJSON, data: map[string]any{".dockerconfigjson": b64(`{"auths":{}}`)}},
		{name: "dockerconfigjson from stringData", typ: secretTypeDockerConfigJSON, stringData: map[string]any{".dockerconfigjson": `{"auths":{}}`}},
		{name: "dockerconfigjson stringData wins over data", typ: secretTypeDockerConfigJSON,
			data: map[string]any{".dockerconfigjson": b64(`{}`)}, stringData: map[string]any{".dockerconfigjson": `{"auths": ` + pw},
			reason: ReasonSecretTypeMismatch, mention: []string{".dockerconfigjson"}},
		// The API server decodes into a map, which JSON null also satisfies.
		{name: "dockerconfigjson null is accepted like upstream", typ: secretTypeDockerConfigJSON, data: map[string]any{".dockerconfigjson": b64(`null`)}},
		{name: "dockerconfigjson renamed into place", typ: secretTypeDockerConfigJSON,
			data: map[string]any{"config.json": b64(`{"auths":{}}`), "other": b64(pw)},
			keys: []KeyRule{rename("config.json", ".dockerconfigjson"), include(".dockerconfigjson")}},
		{name: "dockerconfigjson missing", typ: secretTypeDockerConfigJSON, data: map[string]any{"config.json": b64(`{}`)},
			reason: ReasonSecretTypeMismatch, mention: []string{secretTypeDockerConfigJSON, ".dockerconfigjson", "missing"}},
		{name: "dockerconfigjson malformed", typ: secretTypeDockerConfigJSON, data: map[string]any{".dockerconfigjson": b64(`{"auths": {"r": {"password": "` + pw)},
			reason: ReasonSecretTypeMismatch, mention: []string{secretTypeDockerConfigJSON, ".dockerconfigjson", "JSON object"}},
		{name: "dockerconfigjson array", typ: secretTypeDockerConfigJSON, data: map[string]any{".dockerconfigjson": b64(`["` + pw + `"]`)},
			reason: ReasonSecretTypeMismatch, mention: []string{".dockerconfigjson"}},
		{name: "dockerconfigjson bad base64", typ: secretTypeDockerConfigJSON, data: map[string]any{".dockerconfigjson": pw + "!"},
			reason: ReasonSecretTypeMismatch, mention: []string{".dockerconfigjson", "base64"}},

		{name: "basic-auth username only", typ: secretTypeBasicAuth, data: map[string]any{"username": b64("u")}},
		{name: "basic-auth empty password only", typ: secretTypeBasicAuth, data: map[string]any{"password": ""}},
		{name: "basic-auth neither", typ: secretTypeBasicAuth, data: map[string]any{"user": b64("u"), "pass": b64(pw)},
			reason: ReasonSecretTypeMismatch, mention: []string{secretTypeBasicAuth, "username", "password"}},
		{name: "basic-auth keys dropped by rules", typ: secretTypeBasicAuth, data: map[string]any{"username": b64("u")},
			keys: []KeyRule{exclude("user*")}, reason: ReasonSecretTypeMismatch, mention: []string{"username"}},

		{name: "ssh-auth fits", typ: secretTypeSSHAuth, data: map[string]any{"ssh-privatekey": b64(pw)}},
		{name: "ssh-auth empty", typ: secretTypeSSHAuth, data: map[string]any{"ssh-privatekey": ""},
			reason: ReasonSecretTypeMismatch, mention: []string{secretTypeSSHAuth, "ssh-privatekey", "empty"}},
		{name: "ssh-auth missing", typ: secretTypeSSHAuth, data: map[string]any{"id_rsa": b64(pw)},
			reason: ReasonSecretTypeMismatch, mention: []string{"ssh-privatekey", "missing"}},

		{name: "tls fits, even empty", typ: secretTypeTLS, data: map[string]any{"tls.crt": b64("c"), "tls.key": ""}},
		{name: "tls without key", typ: secretTypeTLS, data: map[string]any{"tls.crt": b64("c")},
			reason: ReasonSecretTypeMismatch, mention: []string{secretTypeTLS, "tls.key"}},
		{name: "tls without cert", typ: secretTypeTLS, data: map[string]any{"tls.key": b64(pw)},
			reason: ReasonSecretTypeMismatch, mention: []string{"tls.crt"}},
		{name: "tls without either", typ: secretTypeTLS,
			reason: ReasonSecretTypeMismatch, mention: []string{"tls.crt", "tls.key"}},

		{name: "service-account-token refused", typ: SecretTypeServiceAccountToken, data: map[string]any{"token": b64(pw)},
			reason: ReasonSecretTypeRefused, mention: []string{SecretTypeServiceAccountToken}},
		{name: "helm release refused", typ: SecretTypeHelmRelease, data: map[string]any{"release": b64(pw)},
			reason: ReasonSecretTypeRefused, mention: []string{SecretTypeHelmRelease}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := secret("Opaque", nil, nil, tc.data)
			if tc.data == nil {
				delete(src.Object, "data")
			}
			if tc.stringData != nil {
				src.Object["stringData"] = tc.stringData
			}
			tp := tmpl
			tp.SecretType, tp.Keys = tc.typ, tc.keys
			got, err := Build(src, tp)
			if r := reasonOf(t, err); r != tc.reason {
				t.Fatalf("reason = %q (%v), want %q", r, err, tc.reason)
			}
			if err != nil {
				for _, m := range tc.mention {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("message %q does not name %q", err, m)
					}
				}
				for _, leak := range []string{pw, b64(pw)[:8], "auths", "{"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("message %q contains data %q", err, leak)
					}
				}
				return
			}
			if got.Object["type"] != tc.typ {
				t.Errorf("type = %v, want %s", got.Object["type"], tc.typ)
			}
			if src.Object["type"] != "Opaque" {
				t.Error("Build modified the source's type")
			}
			if tc.keys == nil {
				for k, v := range tc.data {
					if got.Object["data"].(map[string]any)[k] != v {
						t.Errorf("data %q changed", k)
					}
				}
			}
		})
	}
}

func TestSecretTypeOnOtherKinds(t *testing.T) {
	for name, src := range map[string]*unstructured.Unstructured{
		"configmap": configMap(map[string]any{"tls.crt": "c", "tls.key": "k"}, nil),
		"widget":    widget("w"),
	} {
		tp := tmpl
		tp.SecretType = secretTypeTLS
		if _, err := Build(src, tp); reasonOf(t, err) != ReasonInvalidTemplate {
			t.Errorf("%s: err = %v, want %s", name, err, ReasonInvalidTemplate)
		}
	}
}

// Without an override the copy keeps the source's type and no key check runs, as
// before: the API server has already accepted the source.
func TestNoSecretTypeOverrideKeepsType(t *testing.T) {
	got, err := Build(secret(secretTypeTLS, nil, nil, map[string]any{"tls.crt": b64("c"), "tls.key": b64("k")}), tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if got.Object["type"] != secretTypeTLS {
		t.Errorf("type = %v", got.Object["type"])
	}
}
