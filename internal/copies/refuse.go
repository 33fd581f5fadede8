package copies

import (
	"fmt"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Secret types and labels that mark Secrets Courier never propagates.
const (
	// SecretTypeServiceAccountToken holds a credential bound to one namespace's
	// ServiceAccount; copying it would leak that identity.
	SecretTypeServiceAccountToken = "kubernetes.io/service-account-token"
	// SecretTypeHelmRelease is Helm's release record; a copy would confuse Helm.
	SecretTypeHelmRelease = "helm.sh/release.v1"
)

// RefusedError says why a source must never be propagated.
type RefusedError struct {
	// Reason is a CamelCase reason for conditions and events.
	Reason string
	// Message explains the refusal (never includes object data).
	Message string
}

func (e *RefusedError) Error() string { return e.Message }

// Refuse returns a *RefusedError when an object with this kind, labels and (for
// Secrets) type must never be a source, nil otherwise. It works from metadata and
// the Secret type only, so callers can run it before reading any data.
func Refuse(apiVersion, kind string, labels map[string]string, secretType string) error {
	if IsManagedCopy(labels) {
		return &RefusedError{Reason: "SourceIsCopy", Message: "the source is itself a copy managed by Courier; copies are never sources (no propagation loops)"}
	}
	if apiVersion == "v1" && kind == "Secret" {
		switch {
		case secretType == SecretTypeServiceAccountToken:
			return &RefusedError{Reason: "SourceRefused", Message: fmt.Sprintf("Secrets of type %s are never propagated", SecretTypeServiceAccountToken)}
		case secretType == SecretTypeHelmRelease || labels["owner"] == "helm":
			return &RefusedError{Reason: "SourceRefused", Message: "Helm release Secrets are never propagated"}
		}
	}
	return nil
}

// IsManagedCopy reports whether labels mark a copy managed by Courier: the
// managed-by label plus a propagation label.
func IsManagedCopy(labels map[string]string) bool {
	if labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue {
		return false
	}
	_, cp := labels[v1alpha1.LabelClusterPropagation]
	_, p := labels[v1alpha1.LabelPropagation]
	return cp || p
}

// Owner names the propagation that manages a copy, from its labels and namespace:
// "ClusterPropagation <name>" or "Propagation <namespace>/<name>"; "" when the
// labels do not mark a managed copy.
func Owner(labels map[string]string, namespace string) string {
	if !IsManagedCopy(labels) {
		return ""
	}
	if name := labels[v1alpha1.LabelClusterPropagation]; name != "" {
		return "ClusterPropagation " + name
	}
	return "Propagation " + namespace + "/" + labels[v1alpha1.LabelPropagation]
}
