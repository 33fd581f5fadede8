package managerproc

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Sample is one line of the Prometheus text exposition format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is a parsed /metrics page.
type Metrics []Sample

// Sum adds the values of every sample called name whose labels include all of
// match (nil matches everything).
func (m Metrics) Sum(name string, match map[string]string) float64 {
	var total float64
	for _, s := range m {
		if s.Name == name && s.matches(match) {
			total += s.Value
		}
	}
	return total
}

// Filter returns the samples called name whose labels include all of match.
func (m Metrics) Filter(name string, match map[string]string) Metrics {
	var out Metrics
	for _, s := range m {
		if s.Name == name && s.matches(match) {
			out = append(out, s)
		}
	}
	return out
}

func (s Sample) matches(match map[string]string) bool {
	for k, v := range match {
		if s.Labels[k] != v {
			return false
		}
	}
	return true
}

// ParseMetrics parses the Prometheus text format (version 0.0.4). With names, only
// samples of those metric names are kept, which keeps parsing a multi-megabyte page
// such as kube-apiserver's cheap. Comments and blank lines are skipped; a malformed
// sample line is an error.
func ParseMetrics(text string, names ...string) (Metrics, error) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var out Metrics
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		nameEnd := strings.IndexAny(line, "{ ")
		if nameEnd < 0 {
			return nil, fmt.Errorf("malformed metrics line %q", line)
		}
		name := line[:nameEnd]
		if len(keep) > 0 && !keep[name] {
			continue
		}
		s := Sample{Name: name, Labels: map[string]string{}}
		rest := line[nameEnd:]
		if rest[0] == '{' {
			end, err := parseLabels(rest, s.Labels)
			if err != nil {
				return nil, fmt.Errorf("%w in %q", err, line)
			}
			rest = rest[end:]
		}
		fields := strings.Fields(rest) // value [timestamp]
		if len(fields) == 0 {
			return nil, fmt.Errorf("no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", line, err)
		}
		s.Value = v
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseLabels parses `{a="x",b="y"}` at the start of s into into and returns the
// index just past the closing brace.
func parseLabels(s string, into map[string]string) (int, error) {
	i := 1
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return 0, fmt.Errorf("unterminated label set")
		}
		if s[i] == '}' {
			return i + 1, nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 || i+eq+1 >= len(s) || s[i+eq+1] != '"' {
			return 0, fmt.Errorf("malformed label")
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 2
		var val strings.Builder
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i])
				}
				continue
			}
			val.WriteByte(s[i])
		}
		if i >= len(s) {
			return 0, fmt.Errorf("unterminated label value")
		}
		into[key] = val.String()
		i++ // closing quote
	}
}
