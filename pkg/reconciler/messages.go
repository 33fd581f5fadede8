package reconciler

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Every message the reconciler emits is bounded here, so that a signal survives its
// own size: the API server rejects an event whose note exceeds MaxEventNote (and the
// recorder drops it), and a condition message over its limit fails the whole status
// write.
const (
	// MaxConditionMessage bounds condition messages (the API allows 32768; status
	// stays small).
	MaxConditionMessage = 4096
	// MaxEventNote is the events.k8s.io/v1 limit on an event's note.
	MaxEventNote = 1024
)

// Bound shortens s to at most n bytes, cut at a rune boundary, marking the cut with
// "...".
func Bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut < 0 {
		cut = 0
	}
	return s[:cut] + "..."
}

// BoundedList joins items with ", " into at most n bytes: as many whole items as
// fit, then " and N more" for the rest, so a message naming a thousand objects
// still names the first ones and says how many it left out. An item too long by
// itself is Bound.
func BoundedList(items []string, n int) string {
	var b strings.Builder
	for i, it := range items {
		sep := ""
		if i > 0 {
			sep = ", "
		}
		rest := len(items) - i - 1
		more := ""
		if rest > 0 {
			more = fmt.Sprintf(" and %d more", rest)
		}
		if b.Len()+len(sep)+len(it)+len(more) <= n {
			b.WriteString(sep + it)
			continue
		}
		if i == 0 {
			// Not even the first item fits whole: show what fits of it.
			return Bound(it, max(n-len(more), 0)) + more
		}
		// The previous item was only written because this suffix fits after it.
		fmt.Fprintf(&b, " and %d more", len(items)-i)
		return b.String()
	}
	return b.String()
}

// sanitizeReason makes a reason valid for metav1.Condition
// (^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$, at most 1024 characters): other
// characters are dropped, and an empty result becomes "Unknown".
func sanitizeReason(r string) string {
	b := make([]byte, 0, len(r))
	for i := 0; i < len(r) && len(b) < 1024; i++ {
		c := r[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			b = append(b, c)
		case (c >= '0' && c <= '9') || c == '_' || c == ',' || c == ':':
			if len(b) > 0 {
				b = append(b, c)
			}
		}
	}
	for len(b) > 0 && (b[len(b)-1] == ',' || b[len(b)-1] == ':') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "Unknown"
	}
	return string(b)
}
