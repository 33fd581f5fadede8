package copies

import (
	"errors"
	"testing"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// FuzzRefuse checks the safety refusals on arbitrary metadata: token and Helm
// release Secrets and Courier's own copies are always refused, with a reason and a
// message; anything else is never refused.
func FuzzRefuse(f *testing.F) {
	f.Add("v1", "Secret", "kubernetes.io/service-account-token", "", "", "", "")
	f.Add("v1", "Secret", "helm.sh/release.v1", "owner", "helm", "", "")
	f.Add("v1", "Secret", "Opaque", "owner", "helm", "", "")
	f.Add("v1", "ConfigMap", "", v1alpha1.LabelManagedBy, "courier", v1alpha1.LabelClusterPropagation, "p")
	f.Add("v1", "Secret", "Opaque", v1alpha1.LabelManagedBy, "courier", v1alpha1.LabelPropagation, "")
	f.Add("apps/v1", "Deployment", "", v1alpha1.LabelManagedBy, "courier", "", "")
	f.Add("v1", "Secret", "kubernetes.io/tls", "app", "web", "", "")
	f.Fuzz(func(t *testing.T, apiVersion, kind, secretType, k1, v1, k2, v2 string) {
		labels := map[string]string{k1: v1, k2: v2}
		err := Refuse(apiVersion, kind, labels, secretType)
		isSecret := apiVersion == "v1" && kind == "Secret"
		copyLabels := labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue
		if copyLabels {
			_, cp := labels[v1alpha1.LabelClusterPropagation]
			_, p := labels[v1alpha1.LabelPropagation]
			copyLabels = cp || p
		}
		mustRefuse := copyLabels || (isSecret && (secretType == SecretTypeServiceAccountToken ||
			secretType == SecretTypeHelmRelease || labels["owner"] == "helm"))
		if mustRefuse != (err != nil) {
			t.Fatalf("Refuse(%q, %q, %v, %q) = %v, want refused=%v", apiVersion, kind, labels, secretType, err, mustRefuse)
		}
		if IsManagedCopy(labels) != copyLabels {
			t.Fatalf("IsManagedCopy(%v) = %v", labels, !copyLabels)
		}
		if err != nil {
			var r *RefusedError
			if !errors.As(err, &r) || r.Reason == "" || r.Message == "" {
				t.Fatalf("refusal without reason or message: %#v", err)
			}
		}
	})
}
