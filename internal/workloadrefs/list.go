package workloadrefs

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxListEntries bounds how many entries one annotation may list, so a pathological
// annotation cannot make every reconcile of its workload read thousands of objects.
const maxListEntries = 256

// kindAliases maps the accepted spellings of a kind (lower case) to the Kind.
var kindAliases = map[string]Kind{
	"configmap":  ConfigMap,
	"configmaps": ConfigMap,
	"cm":         ConfigMap,
	"secret":     Secret,
	"secrets":    Secret,
}

// ParseList parses an annotation value such as "configmap/foo, secret/bar".
//
// Entries are separated by commas; blanks around entries and empty entries are
// ignored. The kind is case-insensitive and may be "configmap" (also "configmaps",
// "cm") or "secret" (also "secrets"); the name must be a valid object name. Every
// valid entry is returned (sorted, without duplicates) even when some entries are
// invalid: the error then describes the invalid ones, so one typo does not disable
// the rest of the list.
func ParseList(value string) ([]Ref, error) {
	var (
		refs []Ref
		errs []error
	)
	for i, entry := range strings.Split(value, ",") {
		if i >= maxListEntries {
			errs = append(errs, fmt.Errorf("more than %d entries; the rest are ignored", maxListEntries))
			break
		}
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		r, err := parseEntry(entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		refs = append(refs, r)
	}
	slices.SortFunc(refs, Ref.Compare)
	return slices.Compact(refs), errors.Join(errs...)
}

func parseEntry(entry string) (Ref, error) {
	kind, name, ok := strings.Cut(entry, "/")
	if !ok {
		return Ref{}, fmt.Errorf("%q: want <kind>/<name>, e.g. configmap/app-config", entry)
	}
	k, ok := kindAliases[strings.ToLower(strings.TrimSpace(kind))]
	if !ok {
		return Ref{}, fmt.Errorf("%q: kind must be configmap or secret", entry)
	}
	name = strings.TrimSpace(name)
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return Ref{}, fmt.Errorf("%q: invalid name: %s", entry, strings.Join(msgs, "; "))
	}
	return Ref{Kind: k, Name: name}, nil
}

// FormatList renders references in the form ParseList accepts, sorted.
func FormatList(refs []Ref) string {
	sorted := slices.SortedFunc(slices.Values(refs), Ref.Compare)
	parts := make([]string, 0, len(sorted))
	for _, r := range slices.Compact(sorted) {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, ",")
}
