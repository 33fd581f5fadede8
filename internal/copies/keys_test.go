package copies

import (
	"errors"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func configMap(data, binaryData map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings", "namespace": "src"},
	}}
	if data != nil {
		u.Object["data"] = data
	}
	if binaryData != nil {
		u.Object["binaryData"] = binaryData
	}
	return u
}

// reasonOf returns the reason of a *TemplateError, "" for nil, and fails on any
// other error.
func reasonOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var te *TemplateError
	if !errors.As(err, &te) || te.Reason == "" || te.Message == "" {
		t.Fatalf("err = %#v, want a *TemplateError with reason and message", err)
	}
	var r *RefusedError
	if errors.As(err, &r) {
		t.Fatalf("template error %v also reads as a refusal", err)
	}
	return te.Reason
}

func rename(from, to string) KeyRule { return KeyRule{Rename: &Rename{From: from, To: to}} }
func include(g ...string) KeyRule    { return KeyRule{Include: g} }
func exclude(g ...string) KeyRule    { return KeyRule{Exclude: g} }

func TestKeyRules(t *testing.T) {
	const a, b, c = "YQ==", "Yg==", "Yw==" // "a", "b", "c"
	tlsSecret := func() *unstructured.Unstructured {
		return secret("Opaque", nil, nil, map[string]any{"tls.crt": a, "tls.key": b, "ca.crt": c})
	}
	ab := func() *unstructured.Unstructured { return secret("Opaque", nil, nil, map[string]any{"a": a, "b": b}) }
	cases := []struct {
		name       string
		src        *unstructured.Unstructured
		keys       []KeyRule
		incl, excl []string
		// want holds the expected data fields; an absent field must be absent.
		want   map[string]map[string]any
		reason string
	}{
		{name: "no rules keeps everything", src: tlsSecret(),
			want: map[string]map[string]any{"data": {"tls.crt": a, "tls.key": b, "ca.crt": c}}},
		{name: "include then exclude", src: tlsSecret(), keys: []KeyRule{include("*.crt"), exclude("ca.*")},
			want: map[string]map[string]any{"data": {"tls.crt": a}}},
		{name: "legacy include and exclude", src: tlsSecret(), incl: []string{"*.crt"}, excl: []string{"ca.*"},
			want: map[string]map[string]any{"data": {"tls.crt": a}}},
		{name: "legacy include only", src: tlsSecret(), incl: []string{"tls.*"},
			want: map[string]map[string]any{"data": {"tls.crt": a, "tls.key": b}}},
		{name: "legacy exclude only", src: tlsSecret(), excl: []string{"tls.*"},
			want: map[string]map[string]any{"data": {"ca.crt": c}}},
		{name: "legacy empty slices are no rules", src: tlsSecret(), incl: []string{}, excl: []string{},
			want: map[string]map[string]any{"data": {"tls.crt": a, "tls.key": b, "ca.crt": c}}},
		{name: "everything excluded drops the field", src: tlsSecret(), keys: []KeyRule{exclude("*")},
			want: map[string]map[string]any{}},
		{name: "rename then include matches the new name", src: ab(), keys: []KeyRule{rename("a", "x"), include("a*")},
			want: map[string]map[string]any{}},
		{name: "include then rename keeps the renamed key", src: ab(), keys: []KeyRule{include("a*"), rename("a", "x")},
			want: map[string]map[string]any{"data": {"x": a}}},
		{name: "rename chain follows the current name", src: ab(), keys: []KeyRule{rename("a", "c"), rename("c", "d")},
			want: map[string]map[string]any{"data": {"d": a, "b": b}}},
		{name: "swap through a free name", src: ab(), keys: []KeyRule{rename("a", "t"), rename("b", "a"), rename("t", "b")},
			want: map[string]map[string]any{"data": {"a": b, "b": a}}},
		{name: "rename of an absent key does nothing", src: ab(), keys: []KeyRule{rename("z", "y")},
			want: map[string]map[string]any{"data": {"a": a, "b": b}}},
		{name: "rename onto an existing key conflicts", src: ab(), keys: []KeyRule{rename("a", "b")}, reason: ReasonKeyConflict},
		{name: "rename onto a key dropped before", src: ab(), keys: []KeyRule{exclude("b"), rename("a", "b")},
			want: map[string]map[string]any{"data": {"b": a}}},
		{name: "rename onto a key renamed before conflicts", src: ab(), keys: []KeyRule{rename("b", "c"), rename("a", "c")}, reason: ReasonKeyConflict},
		{name: "secret stringData moves with data",
			src:  withField(ab(), "stringData", map[string]any{"a": "plain", "s": "text"}),
			keys: []KeyRule{rename("a", "user"), exclude("b")},
			want: map[string]map[string]any{"data": {"user": a}, "stringData": {"user": "plain", "s": "text"}}},
		{name: "configmap rename stays in its map, exclude spans both",
			src:  configMap(map[string]any{"app.yaml": "x: 1", "notes.txt": "hi"}, map[string]any{"logo.png": a}),
			keys: []KeyRule{rename("logo.png", "icon.png"), exclude("*.yaml")},
			want: map[string]map[string]any{"data": {"notes.txt": "hi"}, "binaryData": {"icon.png": a}}},
		{name: "configmap include spans both maps",
			src:  configMap(map[string]any{"a.txt": "1", "b.yaml": "2"}, map[string]any{"c.txt": a, "d.bin": b}),
			keys: []KeyRule{include("*.txt")},
			want: map[string]map[string]any{"data": {"a.txt": "1"}, "binaryData": {"c.txt": a}}},
		{name: "configmap rename onto a key of the other map conflicts",
			src:  configMap(map[string]any{"a": "1"}, map[string]any{"b": a}),
			keys: []KeyRule{rename("a", "b")}, reason: ReasonKeyConflict},
		{name: "keys with includeKeys", src: ab(), keys: []KeyRule{exclude("a")}, incl: []string{"*"}, reason: ReasonInvalidTemplate},
		{name: "keys with excludeKeys", src: ab(), keys: []KeyRule{exclude("a")}, excl: []string{"b"}, reason: ReasonInvalidTemplate},
		{name: "empty rule", src: ab(), keys: []KeyRule{{}}, reason: ReasonInvalidTemplate},
		{name: "empty include list", src: ab(), keys: []KeyRule{{Include: []string{}}}, reason: ReasonInvalidTemplate},
		{name: "include and exclude in one rule", src: ab(), keys: []KeyRule{{Include: []string{"a"}, Exclude: []string{"b"}}}, reason: ReasonInvalidTemplate},
		{name: "exclude and rename in one rule", src: ab(), keys: []KeyRule{{Exclude: []string{"b"}, Rename: &Rename{From: "a", To: "c"}}}, reason: ReasonInvalidTemplate},
		{name: "rename without from", src: ab(), keys: []KeyRule{rename("", "c")}, reason: ReasonInvalidTemplate},
		{name: "rename without to", src: ab(), keys: []KeyRule{rename("a", "")}, reason: ReasonInvalidTemplate},
		{name: "rename to itself", src: ab(), keys: []KeyRule{rename("a", "a")}, reason: ReasonInvalidTemplate},
		{name: "rename to an invalid key", src: ab(), keys: []KeyRule{rename("a", "x/y")}, reason: ReasonInvalidTemplate},
		{name: "invalid rule after a valid one", src: ab(), keys: []KeyRule{include("*"), {}}, reason: ReasonInvalidTemplate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp := tmpl
			tp.Keys, tp.IncludeKeys, tp.ExcludeKeys = tc.keys, tc.incl, tc.excl
			got, err := Build(tc.src, tp)
			if r := reasonOf(t, err); r != tc.reason {
				t.Fatalf("reason = %q (%v), want %q", r, err, tc.reason)
			}
			if err != nil {
				return
			}
			for _, f := range dataFields {
				gotField, has := got.Object[f]
				want, wantHas := tc.want[f]
				if has != wantHas || (has && !reflect.DeepEqual(gotField, want)) {
					t.Errorf("%s = %v (present %v), want %v (present %v)", f, gotField, has, want, wantHas)
				}
			}
		})
	}
}

func withField(u *unstructured.Unstructured, field string, v map[string]any) *unstructured.Unstructured {
	u.Object[field] = v
	return u
}

func TestKeyRulesErrorsNameTheRule(t *testing.T) {
	tp := tmpl
	tp.Keys = []KeyRule{include("*"), rename("a", "b")}
	_, err := Build(secret("Opaque", nil, nil, map[string]any{"a": "c2VjcmV0QQ==", "b": "c2VjcmV0Qg=="}), tp)
	want := `key rule 2 renames key "a" to "b", which the copy already has`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// Other kinds have no keyed data: key rules leave their content alone (as
// IncludeKeys always did, and v1alpha1 includeKeys now arrive as Keys), but an
// invalid rule set is still an error.
func TestKeyRulesOtherKinds(t *testing.T) {
	src := widget("w")
	src.Object["data"] = map[string]any{"a": "1"}
	tp := tmpl
	tp.Keys = []KeyRule{exclude("*")}
	got, err := Build(src, tp)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Object["data"], src.Object["data"]) || !reflect.DeepEqual(got.Object["spec"], src.Object["spec"]) {
		t.Errorf("content changed: %v", got.Object)
	}
	tp.Keys = []KeyRule{rename("a", "a")}
	if _, err := Build(src, tp); reasonOf(t, err) != ReasonInvalidTemplate {
		t.Errorf("invalid rules on another kind: err = %v", err)
	}
}

func TestMapKeys(t *testing.T) {
	got, err := mapKeys([]KeyRule{rename("a", "x"), exclude("c*"), include("x", "b")}, []string{"a", "b", "c1", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"x": "a", "b": "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("mapKeys = %v, want %v", got, want)
	}
}
