package migrate

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
)

// maxAlternatives bounds how many globs one regular expression may expand into
// ("(a|b)-(c|d)" is four), so a hostile annotation cannot blow a plan up.
const maxAlternatives = maxPatterns

// regexToGlobs converts a regular expression that must match a whole namespace name
// (the replicator anchors every entry, Reflector requires the match to span the
// name) into globs that match exactly the same namespace names, when there are
// such globs: "team-.*" is "team-*", "^prod$" is "prod", "(dev|qa)-.+" is "dev-?*"
// and "qa-?*". Because a namespace name only holds a-z, 0-9 and '-', a character
// class covering those is '?', and "(?i)" changes nothing.
//
// ok is false when no list of globs is exact ("app-[0-9]*" would need a digit
// class under a star); an ok result may be empty, when the expression matches no
// namespace name at all ("team_.*").
func regexToGlobs(expr string) (globs []string, ok bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	alts, ok := globsOf(re.Simplify(), true, true)
	if !ok {
		return nil, false
	}
	for _, a := range alts {
		for strings.Contains(a, "**") {
			a = strings.ReplaceAll(a, "**", "*")
		}
		if validGlob.MatchString(a) {
			globs = append(globs, a)
		}
	}
	return sortedUnique(globs), true
}

// globsOf converts one node. first and last say whether the node starts or ends
// the whole expression, where an anchor (^, $, \A, \z) means nothing more than the
// whole-name match already does.
func globsOf(re *syntax.Regexp, first, last bool) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpBeginText, syntax.OpBeginLine:
		return []string{""}, first
	case syntax.OpEndText, syntax.OpEndLine:
		return []string{""}, last
	case syntax.OpLiteral:
		var sb strings.Builder
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = unicode.ToLower(r)
			}
			if !nameChar(r) {
				return nil, true // no namespace name holds this character: matches nothing
			}
			sb.WriteRune(r)
		}
		return []string{sb.String()}, true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []string{"?"}, true
	case syntax.OpCharClass:
		return classGlobs(re)
	case syntax.OpCapture:
		return globsOf(re.Sub[0], first, last)
	case syntax.OpStar, syntax.OpPlus:
		if !anyNameChar(re.Sub[0]) {
			return nil, false
		}
		if re.Op == syntax.OpStar {
			return []string{"*"}, true
		}
		return []string{"?*"}, true
	case syntax.OpQuest:
		sub, ok := globsOf(re.Sub[0], false, false)
		return append(sub, ""), ok
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			alts, ok := globsOf(s, first, last)
			if !ok {
				return nil, false
			}
			out = append(out, alts...)
		}
		return out, len(out) <= maxAlternatives
	case syntax.OpConcat:
		out := []string{""}
		for i, s := range re.Sub {
			alts, ok := globsOf(s, first && i == 0, last && i == len(re.Sub)-1)
			if !ok || len(out)*len(alts) > maxAlternatives {
				return nil, false
			}
			var next []string
			for _, prefix := range out {
				for _, a := range alts {
					next = append(next, prefix+a)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// classGlobs converts a character class: '?' when it holds every character of a
// namespace name, otherwise one literal per name character it holds (few enough).
func classGlobs(re *syntax.Regexp) ([]string, bool) {
	var chars []string
	for r := range nameChars() {
		if classHas(re, r) {
			chars = append(chars, string(r))
		}
	}
	if len(chars) == len(allNameChars) {
		return []string{"?"}, true
	}
	if len(chars) == 0 {
		return nil, true
	}
	return chars, len(chars) <= 8
}

// anyNameChar reports whether re matches every single character of a namespace
// name, so a repetition of it is a glob star.
func anyNameChar(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		for r := range nameChars() {
			if !classHas(re, r) {
				return false
			}
		}
		return true
	}
	return false
}

func classHas(re *syntax.Regexp, r rune) bool {
	for i := 0; i+1 < len(re.Rune); i += 2 {
		if re.Rune[i] <= r && r <= re.Rune[i+1] {
			return true
		}
	}
	return false
}

// allNameChars are the characters a namespace name (a DNS label) may hold.
const allNameChars = "abcdefghijklmnopqrstuvwxyz0123456789-"

func nameChars() func(func(rune) bool) {
	return func(yield func(rune) bool) {
		for _, r := range allNameChars {
			if !yield(r) {
				return
			}
		}
	}
}

func nameChar(r rune) bool { return strings.ContainsRune(allNameChars, r) }

// convertPatterns converts a peer's comma-separated list of namespace regular
// expressions (annotation on ref) into Courier globs. An entry no glob expresses is
// expanded to the input's Namespaces it matches now, when the input holds
// Namespaces, with a Finding saying that a namespace created later will not
// follow; otherwise it is left out with a Finding. purpose finishes the sentence
// "a namespace it matches is not ..." ("targeted", "allowed to pull it").
// complete is false when an entry was left out.
func (b *builder) convertPatterns(ref ObjectRef, peer, annotation, raw, purpose string) (globs []string, complete bool) {
	complete = true
	for _, entry := range splitList(raw) {
		matcher, err := regexp.Compile("^(?:" + entry + ")$")
		if err != nil {
			b.find(ref, peer, annotation, SeverityApproximate,
				"%q is not a regular expression %s can use, so it never matched a namespace; it is left out", entry, peerNames[peer])
			continue
		}
		if g, ok := regexToGlobs(entry); ok {
			globs = append(globs, g...)
			continue
		}
		if b.namespaces == nil {
			complete = false
			b.find(ref, peer, annotation, SeverityUnsupported,
				"%q is a regular expression no glob expresses exactly, and the input holds no Namespaces to expand it to the names it matches; it is left out, so a namespace it matches is not %s: list them (names or globs) yourself", entry, purpose)
			continue
		}
		var names []string
		for _, ns := range b.namespaceNames() {
			if matcher.MatchString(ns) {
				names = append(names, ns)
			}
		}
		globs = append(globs, names...)
		b.find(ref, peer, annotation, SeverityApproximate,
			"%q is a regular expression no glob expresses exactly; it was expanded to the %d namespaces of the input it matches now (%s): a namespace created later that it matches is not %s",
			entry, len(names), quoteList(names), purpose)
	}
	return sortedUnique(globs), complete
}

// matchesRegexList reports whether name matches one of the comma-separated regular
// expressions of raw as a whole (how both the replicator and Reflector read them).
func matchesRegexList(raw, name string) bool {
	return slices.ContainsFunc(splitList(raw), func(e string) bool {
		re, err := regexp.Compile("^(?:" + e + ")$")
		return err == nil && re.MatchString(name)
	})
}
