// Package glob matches names against shell-style glob patterns: `*` matches any run
// of characters (including none) and `?` exactly one character. Every other
// character matches itself. Matching runs in O(len(pattern)*len(name)) time at
// worst, so hostile patterns cannot make the operator spin.
package glob
