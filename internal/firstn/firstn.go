// Package firstn writes lists for messages: the first few entries and how many
// more there are, so a message about thousands of objects stays readable.
package firstn

import (
	"fmt"
	"strings"
)

// Join joins the first most entries with sep and, when there are more, ends with
// "and N more".
func Join(entries []string, most int, sep string) string {
	if len(entries) <= most {
		return strings.Join(entries, sep)
	}
	parts := append(append(make([]string, 0, most+1), entries[:most]...), fmt.Sprintf("and %d more", len(entries)-most))
	return strings.Join(parts, sep)
}
