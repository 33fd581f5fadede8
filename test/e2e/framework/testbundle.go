package framework

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteTestBundle writes a minimal but complete registry+v1 bundle for package pkg
// at version into dir: one CRD (widgets.<group>), a CSV (AllNamespaces) whose
// Deployment runs a placeholder image (kwok makes its pod Running) under
// ServiceAccount <pkg>, with cluster permissions on widgets and configmaps. It
// proves the OLM path independently of Courier's own bundle.
func WriteTestBundle(dir, pkg, group, version string) error {
	for _, d := range []string{"manifests", "metadata"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	crd := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.%[1]s
spec:
  group: %[1]s
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`, group)
	csv := fmt.Sprintf(`apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata:
  name: %[1]s.v%[3]s
  annotations:
    capabilities: Basic Install
spec:
  displayName: E2E test operator
  description: Throwaway operator proving OLM on the local cluster.
  version: %[3]s
  minKubeVersion: 1.30.0
  maturity: alpha
  provider: {name: courier e2e}
  installModes:
  - {type: OwnNamespace, supported: false}
  - {type: SingleNamespace, supported: false}
  - {type: MultiNamespace, supported: false}
  - {type: AllNamespaces, supported: true}
  customresourcedefinitions:
    owned:
    - {name: widgets.%[2]s, version: v1, kind: Widget, displayName: Widget, description: A widget.}
  install:
    strategy: deployment
    spec:
      clusterPermissions:
      - serviceAccountName: %[1]s
        rules:
        - apiGroups: [%[2]s]
          resources: [widgets]
          verbs: [get, list, watch]
        - apiGroups: [""]
          resources: [configmaps]
          verbs: [get, list, watch]
      deployments:
      - name: %[1]s
        spec:
          replicas: 1
          selector: {matchLabels: {app: %[1]s}}
          template:
            metadata: {labels: {app: %[1]s}}
            spec:
              serviceAccountName: %[1]s
              containers:
              - name: manager
                image: example.invalid/%[1]s:%[3]s
`, pkg, group, version)
	annotations := fmt.Sprintf(`annotations:
  operators.operatorframework.io.bundle.mediatype.v1: registry+v1
  operators.operatorframework.io.bundle.manifests.v1: manifests/
  operators.operatorframework.io.bundle.metadata.v1: metadata/
  operators.operatorframework.io.bundle.package.v1: %s
  operators.operatorframework.io.bundle.channels.v1: stable
  operators.operatorframework.io.bundle.channel.default.v1: stable
`, pkg)
	files := map[string]string{
		"manifests/widgets.crd.yaml":                       crd,
		"manifests/" + pkg + ".clusterserviceversion.yaml": csv,
		"metadata/annotations.yaml":                        annotations,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// NewPackageCatalog returns a catalog for pkg with one channel holding bundle.
func NewPackageCatalog(pkg, channel string, bundle Blob) *Catalog {
	c := &Catalog{Package: Blob{"schema": "olm.package", "name": pkg, "defaultChannel": channel}}
	c.Bundles = []Blob{bundle}
	c.AddToChannel(channel, fmt.Sprint(bundle["name"]), "")
	return c
}
