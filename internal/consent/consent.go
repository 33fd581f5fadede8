package consent

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/internal/firstn"
	"github.com/courier-operator/courier/internal/glob"
)

// Consent is the parsed sharing intent of one source.
type Consent struct {
	// Patterns are the namespace globs from share-with-namespaces.
	Patterns []string
	// Invalid are the entries of share-with-namespaces that are no namespace name or
	// glob (e.g. "[[["): they match nothing, and a refusal says so.
	Invalid []string
	// Selector is the parsed share-with-namespace-selector, nil when absent.
	Selector labels.Selector
}

// validPattern is what share-with-namespaces may list: a namespace name or a glob
// over one (the characters of a namespace name, '*' and '?'), at most 63 long.
var validPattern = regexp.MustCompile(`^[-a-z0-9*?]{1,63}$`)

// Parse reads the consent annotations. It returns an error naming the annotation
// when a value is malformed (an invalid selector or an empty pattern list).
// A source without either annotation yields a zero Consent (which allows nothing).
func Parse(annotations map[string]string) (Consent, error) {
	var c Consent
	if raw, ok := annotations[v1alpha1.AnnotationShareWithNamespaces]; ok {
		for _, p := range strings.Split(raw, ",") {
			switch p = strings.TrimSpace(p); {
			case p == "":
			case validPattern.MatchString(p):
				c.Patterns = append(c.Patterns, p)
			default:
				c.Invalid = append(c.Invalid, p)
			}
		}
		if len(c.Patterns) == 0 && len(c.Invalid) == 0 {
			return Consent{}, fmt.Errorf("annotation %s is empty", v1alpha1.AnnotationShareWithNamespaces)
		}
	}
	if raw, ok := annotations[v1alpha1.AnnotationShareWithNamespaceSelector]; ok {
		if strings.TrimSpace(raw) == "" {
			return Consent{}, fmt.Errorf("annotation %s is empty", v1alpha1.AnnotationShareWithNamespaceSelector)
		}
		sel, err := labels.Parse(raw)
		if err != nil {
			return Consent{}, fmt.Errorf("annotation %s is not a valid label selector: %w", v1alpha1.AnnotationShareWithNamespaceSelector, err)
		}
		c.Selector = sel
	}
	return c, nil
}

// Given reports whether the source carries any consent annotation.
func (c Consent) Given() bool { return len(c.Patterns) > 0 || c.Selector != nil }

// Allows reports whether a namespace with this name and these labels may pull the
// source: its name matches one of the patterns, or its labels match the selector.
func (c Consent) Allows(namespace string, nsLabels map[string]string) bool {
	if glob.MatchAny(c.Patterns, namespace) {
		return true
	}
	return c.Selector != nil && c.Selector.Matches(labels.Set(nsLabels))
}

// Check combines Parse and Allows and explains a refusal in a message fit for a
// status condition: which annotation is missing, malformed or does not match.
func Check(annotations map[string]string, namespace string, nsLabels map[string]string) (bool, string) {
	c, err := Parse(annotations)
	if err != nil {
		return false, err.Error()
	}
	invalid := ""
	if len(c.Invalid) > 0 {
		invalid = fmt.Sprintf("; %s lists %s, which %s no namespace name or glob (a-z, 0-9, '-', '*', '?') and %s ignored",
			v1alpha1.AnnotationShareWithNamespaces, quoted(c.Invalid), isAre(c.Invalid, "is", "are"), isAre(c.Invalid, "is", "are"))
	}
	if !c.Given() {
		if invalid != "" {
			return false, "the source's consent annotation is malformed" + invalid
		}
		return false, fmt.Sprintf("the source carries neither the %s nor the %s annotation",
			v1alpha1.AnnotationShareWithNamespaces, v1alpha1.AnnotationShareWithNamespaceSelector)
	}
	if c.Allows(namespace, nsLabels) {
		return true, ""
	}
	return false, fmt.Sprintf("namespace %q matches neither %s nor %s on the source",
		namespace, v1alpha1.AnnotationShareWithNamespaces, v1alpha1.AnnotationShareWithNamespaceSelector) + invalid
}

// quoted lists entries for a message, quoted, at most five of them.
func quoted(entries []string) string {
	q := make([]string, len(entries))
	for i, e := range entries {
		q[i] = strconv.Quote(e)
	}
	return firstn.Join(q, 5, ", ")
}

func isAre(entries []string, one, many string) string {
	if len(entries) == 1 {
		return one
	}
	return many
}
