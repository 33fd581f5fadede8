package copies

import (
	"strings"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Metadata keys that belong to the tooling managing the source. Copying them would
// make that tooling believe it owns (and may prune) the copy, or make another
// replicator treat the copy as a source.
var (
	strippedKeys = map[string]bool{
		"kubectl.kubernetes.io/last-applied-configuration": true,
		"app.kubernetes.io/instance":                       true, // Argo CD's default tracking label
		v1alpha1.LabelManagedBy:                            true, // "Helm" on the source; Courier sets its own
	}
	strippedPrefixes = []string{
		v1alpha1.ReservedPrefix, // a source's consent or copy bookkeeping never travels
		"meta.helm.sh/",
		"helm.sh/",
		"argocd.argoproj.io/",
		"kustomize.toolkit.fluxcd.io/",
		"helm.toolkit.fluxcd.io/",
		"replicator.v1.mittwald.de/",
		"reflector.v1.k8s.emberstack.com/",
		"generate.kyverno.io/",
	}
)

// IsToolingKey reports whether a label or annotation key belongs to the source's
// tooling (or to Courier) and is dropped from copies.
func IsToolingKey(key string) bool {
	if strippedKeys[key] {
		return true
	}
	for _, p := range strippedPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// keep returns the entries of m whose keys are not tooling keys.
func keep(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !IsToolingKey(k) {
			out[k] = v
		}
	}
	return out
}
