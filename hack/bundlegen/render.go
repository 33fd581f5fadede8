package main

import (
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/courier-operator/courier/hack/bundlegen/internal/bundle"
	"github.com/courier-operator/courier/hack/bundlegen/internal/chart"
	"github.com/courier-operator/courier/hack/bundlegen/internal/markers"
	"github.com/courier-operator/courier/hack/bundlegen/internal/tools"
	"github.com/courier-operator/courier/hack/internal/manifest"
)

// kustomizeObjects builds the kustomization directory dir (relative to root) and
// decodes the objects it renders.
func kustomizeObjects(root, dir string) ([]*unstructured.Unstructured, error) {
	stream, err := tools.Kustomize(root, dir)
	if err != nil {
		return nil, err
	}
	return manifest.Decode(stream)
}

// RenderBundle renders the bundle from the repository at root.
func RenderBundle(root string, o bundle.Options) (*bundle.Result, error) {
	objs, err := kustomizeObjects(root, "config/manifests")
	if err != nil {
		return nil, err
	}
	samples, err := manifest.DecodeFiles(filepath.Join(root, "config", "samples"))
	if err != nil {
		return nil, err
	}
	kinds, err := markers.Scan(filepath.Join(root, "api", "v1alpha1"))
	if err != nil {
		return nil, err
	}
	return bundle.Assemble(bundle.Inputs{Objects: objs, Samples: samples, Kinds: kinds}, o)
}

// RenderChart renders the chart's generated files from the repository at root.
func RenderChart(root string) (map[string][]byte, error) {
	var sources [3][]*unstructured.Unstructured
	for i, dir := range []string{"config/crd", "config/rbac", "config/admission"} {
		objs, err := kustomizeObjects(root, dir)
		if err != nil {
			return nil, err
		}
		sources[i] = objs
	}
	files, err := chart.Render(sources[0], sources[1], sources[2])
	if err != nil {
		return nil, err
	}
	for src, dst := range chart.Copies {
		if files[dst], err = os.ReadFile(filepath.Join(root, src)); err != nil {
			return nil, err
		}
	}
	return files, nil
}
