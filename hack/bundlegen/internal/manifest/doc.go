// Package manifest decodes multi-document YAML (kustomize output, sample files)
// into unstructured objects and encodes objects back to YAML deterministically.
package manifest
