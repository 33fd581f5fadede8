// Package krew pins krew (kubectl's plugin manager) and its manifest validator in a
// module of their own: krew v0.4.3 requires k8s.io/client-go v11.0.0+incompatible,
// which would replace the client-go of any module it joined. hack/krewmanifest's
// test builds both to validate and install the generated plugin manifest.
package krew
