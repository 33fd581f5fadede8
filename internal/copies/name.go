package copies

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
)

// CopyName returns the name of the copy of the source named sourceName: name (a
// rename) or else the source's name, between prefix and suffix. The controller,
// the CLI and Build all call it, so a copy is always looked for under the name it
// is written with.
func CopyName(name, prefix, suffix, sourceName string) string {
	if name == "" {
		name = sourceName
	}
	return prefix + name + suffix
}

// checkCopyName reports (ReasonInvalidCopyName) a copy name the API server would
// reject for the kind: Secrets and ConfigMaps need DNS subdomain names; other
// kinds have their own rules, but every name must fit 253 characters and be
// usable as a URL path segment. A prefix or suffix can break a name that was
// valid, so this is checked on every copy rather than left to the write.
func checkCopyName(apiVersion, kind, name string) error {
	var msgs []string
	switch {
	case name == "":
		msgs = []string{"must not be empty"}
	case apiVersion == "v1" && (kind == "Secret" || kind == "ConfigMap"):
		msgs = validation.IsDNS1123Subdomain(name)
	default:
		if len(name) > validation.DNS1123SubdomainMaxLength {
			msgs = append(msgs, validation.MaxLenError(validation.DNS1123SubdomainMaxLength))
		}
		// path.IsValidPathSegmentName is a deprecated alias of this function.
		msgs = append(msgs, content.IsPathSegmentName(name)...)
	}
	if len(msgs) > 0 {
		return templateErrorf(ReasonInvalidCopyName, "copy name %q is not a valid %s name: %s", name, kind, strings.Join(msgs, "; "))
	}
	return nil
}
