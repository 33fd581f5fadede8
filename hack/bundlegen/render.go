package main

import (
	"path/filepath"

	"github.com/courier-operator/courier/hack/bundlegen/internal/bundle"
	"github.com/courier-operator/courier/hack/bundlegen/internal/chart"
	"github.com/courier-operator/courier/hack/bundlegen/internal/manifest"
	"github.com/courier-operator/courier/hack/bundlegen/internal/markers"
	"github.com/courier-operator/courier/hack/bundlegen/internal/tools"
)

// RenderBundle renders the bundle from the repository at root.
func RenderBundle(root string, o bundle.Options) (*bundle.Result, error) {
	stream, err := tools.Kustomize(root, "config/manifests")
	if err != nil {
		return nil, err
	}
	objs, err := manifest.Decode(stream)
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
	crds, err := tools.Kustomize(root, "config/crd")
	if err != nil {
		return nil, err
	}
	rbac, err := tools.Kustomize(root, "config/rbac")
	if err != nil {
		return nil, err
	}
	admission, err := tools.Kustomize(root, "config/admission")
	if err != nil {
		return nil, err
	}
	crdObjs, err := manifest.Decode(crds)
	if err != nil {
		return nil, err
	}
	rbacObjs, err := manifest.Decode(rbac)
	if err != nil {
		return nil, err
	}
	admissionObjs, err := manifest.Decode(admission)
	if err != nil {
		return nil, err
	}
	return chart.Render(crdObjs, rbacObjs, admissionObjs)
}
