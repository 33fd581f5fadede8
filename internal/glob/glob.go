package glob

// Match reports whether name matches pattern.
//
// The algorithm is the classic greedy match with a single backtrack point: on a
// mismatch after a `*`, the star absorbs one more character and matching resumes.
// This never needs more than one saved position, so it cannot blow up like a naive
// recursive matcher on patterns such as "a*a*a*a*b".
func Match(patternStr, nameStr string) bool {
	// Work on runes so `?` matches one character, not one byte.
	pattern, name := []rune(patternStr), []rune(nameStr)
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case star >= 0:
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// MatchAny reports whether name matches at least one of patterns.
func MatchAny[S ~string](patterns []S, name string) bool {
	for _, p := range patterns {
		if Match(string(p), name) {
			return true
		}
	}
	return false
}
