// Package manifest decodes multi-document YAML or JSON (kustomize and helm output,
// opm renderings, sample files) into unstructured objects and encodes objects back
// to YAML deterministically. It is the one decoder of the hack/ tools: bundlegen
// uses it directly and localcluster.DecodeManifests delegates to it.
package manifest
