package markers

import (
	"fmt"
	"strings"
)

// prefix starts every CSV marker this package reads.
const prefix = "+operator-sdk:csv:customresourcedefinitions:"

// marker is one parsed CSV marker: its key=value arguments in order of appearance.
type marker map[string]string

// parseMarker parses the text after prefix: comma-separated key=value pairs whose
// values may be double-quoted strings or brace groups ({{Secret,v1},{ConfigMap,v1}});
// commas inside quotes or braces do not split.
func parseMarker(s string) (marker, error) {
	m := marker{}
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '{':
			depth++
		case c == '}':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if quoted || depth != 0 {
		return nil, fmt.Errorf("unbalanced quotes or braces in marker %q", s)
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("marker argument %q is not key=value", p)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}

// unquote strips one pair of surrounding double quotes.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
	}
	return v
}

// stringList reads a marker value that is either one (quoted) string or a brace
// list of them: "a" or {"a","b"}.
func stringList(v string) []string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		var out []string
		for _, item := range strings.Split(v[1:len(v)-1], ",") {
			if item = unquote(strings.TrimSpace(item)); item != "" {
				out = append(out, item)
			}
		}
		return out
	}
	if v = unquote(v); v != "" {
		return []string{v}
	}
	return nil
}

// resourceList reads {{Kind,version[,name]},...}.
func resourceList(v string) ([][]string, error) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") {
		return nil, fmt.Errorf("resources %q is not a brace list", v)
	}
	var out [][]string
	for _, group := range strings.Split(v[1:len(v)-1], "},") {
		group = strings.Trim(strings.TrimSpace(group), "{}")
		if group == "" {
			continue
		}
		fields := strings.Split(group, ",")
		for i := range fields {
			fields[i] = unquote(strings.TrimSpace(fields[i]))
		}
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("resource %q wants Kind,version[,name]", group)
		}
		out = append(out, fields)
	}
	return out, nil
}
