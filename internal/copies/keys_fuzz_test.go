package copies

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/internal/glob"
)

// parseRules reads the fuzzer's rule language: rules separated by ';', each
// "i:glob,glob" (include), "e:glob,glob" (exclude) or "r:from>to" (rename);
// anything else is a rule with no field set, which Build must reject.
func parseRules(spec string) []KeyRule {
	if spec == "" {
		return nil
	}
	var rules []KeyRule
	for i, s := range strings.Split(spec, ";") {
		if i == 8 {
			break
		}
		body := s[min(len(s), 2):]
		switch {
		case strings.HasPrefix(s, "i:"):
			rules = append(rules, KeyRule{Include: strings.Split(body, ",")})
		case strings.HasPrefix(s, "e:"):
			rules = append(rules, KeyRule{Exclude: strings.Split(body, ",")})
		case strings.HasPrefix(s, "r:"):
			from, to, _ := strings.Cut(body, ">")
			rules = append(rules, KeyRule{Rename: &Rename{From: from, To: to}})
		default:
			rules = append(rules, KeyRule{})
		}
	}
	return rules
}

// FuzzKeyRules checks the key rules' invariants on Secrets and ConfigMaps: every
// copy key carries exactly one source key's value, unchanged and from the same
// field; no two copy keys carry the same source key and no ConfigMap key lands in
// both maps; rules that only include and exclude never invent or rename keys and
// keep exactly the keys every rule lets through; errors are template errors
// without data.
func FuzzKeyRules(f *testing.F) {
	f.Add(false, "tls.crt,tls.key,ca.crt", uint16(0), "i:*.crt;e:ca.*")
	f.Add(false, "a,b", uint16(0), "r:a>b")
	f.Add(false, "a,b", uint16(0), "e:b;r:a>b")
	f.Add(false, "a,b", uint16(0), "r:a>t;r:b>a;r:t>b")
	f.Add(true, "app.yaml,logo.png,notes.txt", uint16(2), "r:logo.png>icon.png;e:*.yaml")
	f.Add(true, "a,b", uint16(2), "r:a>b")
	f.Add(true, "x,y,z", uint16(5), "i:?;r:y>w;i:w,x")
	f.Add(false, "a", uint16(0), "bogus")
	f.Add(false, "a", uint16(0), "r:a>a")
	f.Add(false, "a", uint16(0), "r:a>bad/key")
	f.Fuzz(func(t *testing.T, isConfigMap bool, keyList string, binaryMask uint16, ruleSpec string) {
		// Build a source whose values say which key and field they came from.
		origin := map[string][2]string{} // value -> field, source key
		fields := map[string]map[string]any{}
		seen := map[string]bool{}
		for i, k := range strings.Split(keyList, ",") {
			if seen[k] || len(seen) == 16 {
				continue
			}
			seen[k] = true
			field, raw := "data", fmt.Sprintf("VALUE#%d#", i)
			v := base64.StdEncoding.EncodeToString([]byte(raw))
			if isConfigMap {
				if binaryMask&(1<<(i%16)) != 0 {
					field = "binaryData"
				} else {
					v = raw
				}
			}
			if fields[field] == nil {
				fields[field] = map[string]any{}
			}
			fields[field][k] = v
			origin[v] = [2]string{field, k}
		}
		var src *unstructured.Unstructured
		if isConfigMap {
			src = configMap(fields["data"], fields["binaryData"])
		} else {
			src = secret("Opaque", nil, nil, fields["data"])
		}
		rules := parseRules(ruleSpec)
		renames := false
		for _, r := range rules {
			renames = renames || r.Rename != nil
		}
		tp := tmpl
		tp.Keys = rules
		got, err := Build(src, tp)
		if err != nil {
			reason := reasonOf(t, err)
			if reason != ReasonInvalidTemplate && (reason != ReasonKeyConflict || !renames) {
				t.Fatalf("unexpected error %v", err)
			}
			if !strings.Contains(keyList+ruleSpec, "VALUE#") && !strings.Contains(keyList+ruleSpec, "VkFMVUUj") &&
				(strings.Contains(err.Error(), "VALUE#") || strings.Contains(err.Error(), "VkFMVUUj")) {
				t.Fatalf("error message contains data: %v", err)
			}
			return
		}
		carried := map[[2]string]bool{}
		copyKeys := map[string]bool{}
		for _, field := range dataFields {
			m, _ := got.Object[field].(map[string]any)
			for k, v := range m {
				o, ok := origin[v.(string)]
				if !ok || o[0] != field {
					t.Fatalf("%s key %q holds a value not from the source's %s", field, k, field)
				}
				if carried[o] {
					t.Fatalf("source key %q carried twice", o[1])
				}
				carried[o] = true
				if copyKeys[k] {
					t.Fatalf("copy key %q in two fields", k)
				}
				copyKeys[k] = true
				if !renames && k != o[1] {
					t.Fatalf("include/exclude rules turned key %q into %q", o[1], k)
				}
			}
		}
		if !renames {
			for k := range seen {
				keep := true
				for _, r := range rules {
					if len(r.Include) > 0 {
						keep = keep && glob.MatchAny(r.Include, k)
					} else {
						keep = keep && !glob.MatchAny(r.Exclude, k)
					}
				}
				if keep != copyKeys[k] {
					t.Fatalf("key %q kept = %v, want %v", k, copyKeys[k], keep)
				}
			}
		}
	})
}
