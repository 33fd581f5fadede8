package copies

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/courier-operator/courier/internal/glob"
)

// KeyRule is one step of a copy's key rules, in the builder's own terms (callers
// convert the API's rules, so this package stays independent of API versions).
// Exactly one field is set.
type KeyRule struct {
	// Include keeps only the keys matching one of these globs.
	Include []string
	// Exclude drops the keys matching one of these globs.
	Exclude []string
	// Rename gives one key another name.
	Rename *Rename
}

// Rename gives the key From the name To. From is the key's name at that point of
// the rules, that is after the renames before it.
type Rename struct {
	From, To string
}

// dataFields are the Secret/ConfigMap fields holding keyed data. A key is one key
// across all of them: a ConfigMap key lives in data or binaryData, never both,
// and a Secret's stringData key is written over the data key of the same name.
var dataFields = []string{"data", "binaryData", "stringData"}

// keyRules returns the template's key rules, checked: Keys, or IncludeKeys and
// ExcludeKeys said as the rules they always meant (include, then exclude), so
// both API versions go through one implementation.
func keyRules(t Template) ([]KeyRule, error) {
	if len(t.Keys) > 0 && (len(t.IncludeKeys) > 0 || len(t.ExcludeKeys) > 0) {
		return nil, templateErrorf(ReasonInvalidTemplate, "the copy template sets both key rules and includeKeys/excludeKeys; use one or the other")
	}
	if len(t.Keys) == 0 {
		var rules []KeyRule
		if len(t.IncludeKeys) > 0 {
			rules = append(rules, KeyRule{Include: t.IncludeKeys})
		}
		if len(t.ExcludeKeys) > 0 {
			rules = append(rules, KeyRule{Exclude: t.ExcludeKeys})
		}
		return rules, nil
	}
	for i, r := range t.Keys {
		if err := checkKeyRule(r); err != "" {
			return nil, templateErrorf(ReasonInvalidTemplate, "key rule %d is invalid: %s", i+1, err)
		}
	}
	return t.Keys, nil
}

// checkKeyRule says what is wrong with one rule, "" when nothing is. The API's
// schema checks the same, but the builder must not depend on admission having run
// (the CLI builds copies from files).
func checkKeyRule(r KeyRule) string {
	set := 0
	for _, b := range []bool{len(r.Include) > 0, len(r.Exclude) > 0, r.Rename != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return "exactly one of include, exclude and rename must be set"
	}
	if r.Rename == nil {
		return ""
	}
	switch {
	case r.Rename.From == "" || r.Rename.To == "":
		return "rename needs both from and to"
	case r.Rename.From == r.Rename.To:
		return fmt.Sprintf("rename from and to are both %q", r.Rename.From)
	}
	if msgs := validation.IsConfigMapKey(r.Rename.To); len(msgs) > 0 {
		return fmt.Sprintf("rename to %q is not a valid data key: %s", r.Rename.To, strings.Join(msgs, "; "))
	}
	return ""
}

// mapKeys runs rules (checked by keyRules) on the source's key names and returns
// the copy's keys, each mapped to the source key whose value it carries. It is the
// one implementation of the rules; applyKeys only moves values along its result.
// A rename onto a key the copy has at that point is a *TemplateError
// (ReasonKeyConflict): overwriting would silently drop a value.
func mapKeys(rules []KeyRule, keys []string) (map[string]string, error) {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = k
	}
	for i, r := range rules {
		switch {
		case len(r.Include) > 0:
			for k := range m {
				if !glob.MatchAny(r.Include, k) {
					delete(m, k)
				}
			}
		case len(r.Exclude) > 0:
			for k := range m {
				if glob.MatchAny(r.Exclude, k) {
					delete(m, k)
				}
			}
		case r.Rename != nil:
			src, ok := m[r.Rename.From]
			if !ok {
				continue // the rule's key is absent: nothing to do
			}
			if _, taken := m[r.Rename.To]; taken {
				return nil, templateErrorf(ReasonKeyConflict, "key rule %d renames key %q to %q, which the copy already has", i+1, r.Rename.From, r.Rename.To)
			}
			delete(m, r.Rename.From)
			m[r.Rename.To] = src
		}
	}
	return m, nil
}

// applyKeys rewrites obj's keyed data fields by the rules: each copy key gets the
// value of its source key from the same field, so a renamed key stays in the map
// it lives in. Without rules obj is left exactly as is; with rules a field left
// empty is removed, as the key filters always did.
func applyKeys(obj map[string]any, rules []KeyRule) error {
	if len(rules) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var keys []string
	for _, f := range dataFields {
		m, _ := obj[f].(map[string]any)
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	mapping, err := mapKeys(rules, keys)
	if err != nil {
		return err
	}
	for _, f := range dataFields {
		m, ok := obj[f].(map[string]any)
		if !ok {
			continue
		}
		out := make(map[string]any, len(m))
		for copyKey, srcKey := range mapping {
			if v, ok := m[srcKey]; ok {
				out[copyKey] = v
			}
		}
		if len(out) == 0 {
			delete(obj, f)
		} else {
			obj[f] = out
		}
	}
	return nil
}
