package catalog

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/blang/semver/v4"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/hack/internal/manifest"
)

// Entry is one bundle in a channel (the olm.channel schema's entries).
type Entry struct {
	Name      string   `json:"name"`
	Replaces  string   `json:"replaces,omitempty"`
	Skips     []string `json:"skips,omitempty"`
	SkipRange string   `json:"skipRange,omitempty"`
}

// Channel is an olm.channel blob.
type Channel struct {
	Schema  string  `json:"schema"`
	Package string  `json:"package"`
	Name    string  `json:"name"`
	Entries []Entry `json:"entries"`
}

// LoadChannels reads the olm.channel documents of a YAML file.
func LoadChannels(path string) ([]Channel, error) {
	objs, err := manifest.DecodeFile(path)
	if err != nil {
		return nil, err
	}
	var out []Channel
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		var c Channel
		if err := yaml.UnmarshalStrict(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if c.Schema != "olm.channel" {
			return nil, fmt.Errorf("%s: unexpected schema %q", path, c.Schema)
		}
		out = append(out, c)
	}
	return out, nil
}

// WriteChannels writes channels as a YAML stream.
func WriteChannels(path string, channels []Channel) error {
	var buf bytes.Buffer
	for i, c := range channels {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// VersionOf reads the semantic version from a bundle name <package>.v<semver>.
func VersionOf(name string) (semver.Version, error) {
	i := strings.LastIndex(name, ".v")
	if i < 0 {
		return semver.Version{}, fmt.Errorf("bundle name %q is not <package>.v<semver>", name)
	}
	return semver.Parse(name[i+2:])
}

// Head returns the channel's single head: the entry no other entry replaces or
// skips. It fails when there is none (a cycle) or several.
func Head(c Channel) (Entry, error) {
	replaced := map[string]bool{}
	for _, e := range c.Entries {
		if e.Replaces != "" {
			replaced[e.Replaces] = true
		}
		for _, s := range e.Skips {
			replaced[s] = true
		}
	}
	var heads []Entry
	for _, e := range c.Entries {
		if !replaced[e.Name] {
			heads = append(heads, e)
		}
	}
	if len(heads) != 1 {
		names := make([]string, len(heads))
		for i, h := range heads {
			names[i] = h.Name
		}
		return Entry{}, fmt.Errorf("channel %s has %d heads %v, want exactly one", c.Name, len(heads), names)
	}
	return heads[0], nil
}

// Check validates one channel's graph: a single head; following replaces from the
// head visits every entry once (no cycle, no stranded bundle); every skipRange
// parses and covers the version it replaces; versions increase along the chain.
func Check(c Channel) error {
	head, err := Head(c)
	if err != nil {
		return err
	}
	byName := map[string]Entry{}
	for _, e := range c.Entries {
		if _, dup := byName[e.Name]; dup {
			return fmt.Errorf("channel %s lists %s twice", c.Name, e.Name)
		}
		byName[e.Name] = e
	}
	seen := map[string]bool{}
	for e := head; ; {
		if seen[e.Name] {
			return fmt.Errorf("channel %s: replaces cycle through %s", c.Name, e.Name)
		}
		seen[e.Name] = true
		v, err := VersionOf(e.Name)
		if err != nil {
			return err
		}
		if e.SkipRange != "" {
			r, err := semver.ParseRange(e.SkipRange)
			if err != nil {
				return fmt.Errorf("channel %s entry %s: skipRange %q: %w", c.Name, e.Name, e.SkipRange, err)
			}
			if r(v) {
				return fmt.Errorf("channel %s entry %s: skipRange %q includes its own version", c.Name, e.Name, e.SkipRange)
			}
		}
		if e.Replaces == "" {
			break
		}
		prev, ok := byName[e.Replaces]
		if !ok {
			break // replacing a bundle outside the channel is allowed (the chain ends)
		}
		pv, err := VersionOf(prev.Name)
		if err != nil {
			return err
		}
		if !pv.LT(v) {
			return fmt.Errorf("channel %s: %s replaces the newer %s", c.Name, e.Name, prev.Name)
		}
		if e.SkipRange != "" {
			if r, _ := semver.ParseRange(e.SkipRange); !r(pv) {
				return fmt.Errorf("channel %s entry %s: skipRange %q does not cover the replaced %s", c.Name, e.Name, e.SkipRange, prev.Name)
			}
		}
		e = prev
	}
	for _, e := range c.Entries {
		if !seen[e.Name] {
			return fmt.Errorf("channel %s: %s is stranded (not reachable from the head %s)", c.Name, e.Name, head.Name)
		}
	}
	return nil
}

// Add makes name the new head of every channel in want (creating missing ones):
// it replaces the current head and skips every older version in the channel.
func Add(channels []Channel, pkg, name string, want []string) ([]Channel, error) {
	v, err := VersionOf(name)
	if err != nil {
		return nil, err
	}
	for _, ch := range want {
		i := indexOf(channels, ch)
		if i < 0 {
			channels = append(channels, Channel{Schema: "olm.channel", Package: pkg, Name: ch})
			i = len(channels) - 1
		}
		c := &channels[i]
		if contains(c.Entries, name) {
			return nil, fmt.Errorf("channel %s already has %s", ch, name)
		}
		e := Entry{Name: name}
		if len(c.Entries) > 0 {
			head, err := Head(*c)
			if err != nil {
				return nil, err
			}
			oldest := v
			for _, x := range c.Entries {
				xv, err := VersionOf(x.Name)
				if err != nil {
					return nil, err
				}
				if xv.GTE(v) {
					return nil, fmt.Errorf("channel %s already has %s, not older than %s", ch, x.Name, name)
				}
				if xv.LT(oldest) {
					oldest = xv
				}
			}
			e.Replaces = head.Name
			e.SkipRange = fmt.Sprintf(">=%s <%s", oldest, v)
		}
		c.Entries = append(c.Entries, e)
	}
	return channels, nil
}

func indexOf(channels []Channel, name string) int {
	for i, c := range channels {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func contains(entries []Entry, name string) bool {
	for _, e := range entries {
		if e.Name == name {
			return true
		}
	}
	return false
}
