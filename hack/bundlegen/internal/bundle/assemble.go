package bundle

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	"github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/courier-operator/courier/hack/bundlegen/internal/markers"
	"github.com/courier-operator/courier/hack/internal/manifest"
)

// Result is a rendered bundle.
type Result struct {
	// Files maps paths inside the bundle directory (manifests/..., metadata/...,
	// tests/scorecard/...) to their content.
	Files map[string][]byte
	// Dockerfile is the content of bundle.Dockerfile at the repository root.
	Dockerfile []byte
}

// Inputs is everything a bundle is rendered from.
type Inputs struct {
	// Objects is `kustomize build config/manifests`: CSV base, installation, scorecard.
	Objects []*unstructured.Unstructured
	// Samples are candidate alm-examples; only objects of owned CRD kinds are used.
	Samples []*unstructured.Unstructured
	// Kinds come from the API types' CSV markers.
	Kinds []markers.Kind
}

// Assemble renders the bundle.
func Assemble(in Inputs, o Options) (*Result, error) {
	res := &Result{Files: map[string][]byte{}}
	bases := manifest.Find(in.Objects, "ClusterServiceVersion")
	if len(bases) != 1 {
		return nil, fmt.Errorf("want exactly one ClusterServiceVersion base, found %d", len(bases))
	}
	csv := &v1alpha1.ClusterServiceVersion{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(bases[0].Object, csv); err != nil {
		return nil, fmt.Errorf("CSV base: %w", err)
	}
	csv.Name = o.CSVName()
	v, err := semver.Parse(o.Version)
	if err != nil {
		return nil, fmt.Errorf("version %q: %w", o.Version, err)
	}
	csv.Spec.Version = version.OperatorVersion{Version: v}
	csv.Spec.Replaces = o.Replaces
	if o.SkipRange != "" {
		csv.Annotations["olm.skipRange"] = o.SkipRange
	}

	crds, err := ownedCRDs(in, csv, res)
	if err != nil {
		return nil, err
	}
	if err := almExamples(in.Samples, crds, csv); err != nil {
		return nil, err
	}
	bound, err := installStrategy(in.Objects, csv)
	if err != nil {
		return nil, err
	}
	if err := images(csv, o.Platforms); err != nil {
		return nil, err
	}
	if err := admissionPolicy(in.Objects, csv, bound); err != nil {
		return nil, err
	}
	if err := others(in.Objects, bound, res); err != nil {
		return nil, err
	}
	if err := scorecard(in.Objects, res); err != nil {
		return nil, err
	}

	data, err := encodeCSV(csv)
	if err != nil {
		return nil, err
	}
	res.Files["manifests/"+o.Package+".clusterserviceversion.yaml"] = data
	res.Files["metadata/annotations.yaml"] = annotationsYAML(o)
	res.Dockerfile = dockerfile(o)
	return res, nil
}

// ownedCRDs writes every CRD into manifests/ and describes it in the CSV with the
// markers of its kind.
func ownedCRDs(in Inputs, csv *v1alpha1.ClusterServiceVersion, res *Result) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	byKind := map[string]markers.Kind{}
	for _, k := range in.Kinds {
		byKind[k.Kind] = k
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, u := range manifest.Find(in.Objects, "CustomResourceDefinition") {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", u.GetName(), err)
		}
		crds = append(crds, crd)
		data, err := manifest.Encode(u.Object)
		if err != nil {
			return nil, err
		}
		res.Files[fmt.Sprintf("manifests/%s_%s.yaml", crd.Spec.Group, crd.Spec.Names.Plural)] = data

		k, ok := byKind[crd.Spec.Names.Kind]
		if !ok {
			return nil, fmt.Errorf("CRD %s: kind %s has no +operator-sdk:csv type marker in api/", crd.Name, crd.Spec.Names.Kind)
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			csv.Spec.CustomResourceDefinitions.Owned = append(csv.Spec.CustomResourceDefinitions.Owned, v1alpha1.CRDDescription{
				Name: crd.Name, Version: v.Name, Kind: crd.Spec.Names.Kind,
				DisplayName: k.DisplayName, Description: k.Description, Resources: k.Resources,
				SpecDescriptors: k.SpecDescriptors, StatusDescriptors: k.StatusDescriptors,
			})
		}
	}
	sort.Slice(csv.Spec.CustomResourceDefinitions.Owned, func(i, j int) bool {
		a, b := csv.Spec.CustomResourceDefinitions.Owned[i], csv.Spec.CustomResourceDefinitions.Owned[j]
		return a.Name+a.Version < b.Name+b.Version
	})
	return crds, nil
}

// almExamples sets the alm-examples annotation from the samples of owned kinds.
func almExamples(samples []*unstructured.Unstructured, crds []*apiextensionsv1.CustomResourceDefinition, csv *v1alpha1.ClusterServiceVersion) error {
	owned := map[string]bool{}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			owned[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = true
		}
	}
	var examples []map[string]any
	for _, s := range samples {
		if owned[s.GetAPIVersion()+"/"+s.GetKind()] {
			examples = append(examples, s.Object)
		}
	}
	if len(examples) == 0 {
		return fmt.Errorf("no samples of an owned kind for alm-examples")
	}
	data, err := json.MarshalIndent(examples, "", "  ")
	if err != nil {
		return err
	}
	csv.Annotations["alm-examples"] = string(data)
	return nil
}

// installStrategy puts the manager Deployment and the rules of every Role and
// ClusterRole bound to its ServiceAccount into the CSV, and sets containerImage.
// It returns the objects it consumed, which are not written as separate manifests.
func installStrategy(objs []*unstructured.Unstructured, csv *v1alpha1.ClusterServiceVersion) (map[*unstructured.Unstructured]bool, error) {
	consumed := map[*unstructured.Unstructured]bool{}
	deps := manifest.Find(objs, "Deployment")
	if len(deps) != 1 {
		return nil, fmt.Errorf("want exactly one Deployment, found %d", len(deps))
	}
	dep := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(deps[0].Object, dep); err != nil {
		return nil, err
	}
	consumed[deps[0]] = true
	sa := dep.Spec.Template.Spec.ServiceAccountName
	for _, c := range dep.Spec.Template.Spec.Containers {
		if c.Name == "manager" {
			csv.Annotations["containerImage"] = c.Image
		}
	}
	spec := &csv.Spec.InstallStrategy.StrategySpec
	spec.DeploymentSpecs = []v1alpha1.StrategyDeploymentSpec{{Name: dep.Name, Label: dep.Labels, Spec: dep.Spec}}

	roles := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		if u.GetKind() == "Role" || u.GetKind() == "ClusterRole" {
			roles[u.GetKind()+"/"+u.GetName()] = u
		}
	}
	for _, u := range objs {
		kind := u.GetKind()
		if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
			continue
		}
		b := &rbacv1.RoleBinding{} // ClusterRoleBinding has the same shape
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, b); err != nil {
			return nil, err
		}
		if !bindsServiceAccount(b.Subjects, sa) {
			continue
		}
		role, ok := roles[b.RoleRef.Kind+"/"+b.RoleRef.Name]
		if !ok {
			return nil, fmt.Errorf("%s %s binds %s %s, which config/ does not define", kind, b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		if _, aggregated := role.Object["aggregationRule"]; aggregated {
			continue // rules filled in by the cluster: ship the role and binding as they are
		}
		r := &rbacv1.ClusterRole{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, r); err != nil {
			return nil, err
		}
		target := &spec.ClusterPermissions
		if b.RoleRef.Kind == "Role" {
			target = &spec.Permissions
		}
		*target = appendRules(*target, sa, r.Rules)
		consumed[u], consumed[role] = true, true
	}
	for _, u := range objs {
		if u.GetKind() == "ServiceAccount" && u.GetName() == sa {
			consumed[u] = true // OLM creates it from the install strategy
		}
	}
	return consumed, nil
}

// images lists the images the CSV's deployments run in spec.relatedImages (what a
// disconnected mirror copies) and labels the CSV with the platforms those images
// are built for.
func images(csv *v1alpha1.ClusterServiceVersion, platforms []string) error {
	if len(platforms) == 0 {
		return fmt.Errorf("no platforms: the manager image's os/arch pairs are needed for the CSV's labels")
	}
	csv.Spec.RelatedImages = nil
	seen := map[string]bool{}
	for _, d := range csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs {
		for _, c := range append(d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers...) {
			if !seen[c.Image] {
				seen[c.Image] = true
				csv.Spec.RelatedImages = append(csv.Spec.RelatedImages, v1alpha1.RelatedImage{Name: c.Name, Image: c.Image})
			}
		}
	}
	if csv.Labels == nil {
		csv.Labels = map[string]string{}
	}
	for _, p := range platforms {
		osName, arch, ok := strings.Cut(p, "/")
		if !ok || osName == "" || arch == "" {
			return fmt.Errorf("platform %q is not os/arch", p)
		}
		csv.Labels["operatorframework.io/os."+osName] = "supported"
		csv.Labels["operatorframework.io/arch."+arch] = "supported"
	}
	return nil
}

// InstallPolicyFlag makes the manager install the admission policy at start.
const InstallPolicyFlag = "--install-admission-policy"

// admissionKinds are the kinds of config/admission. OLM cannot install admission
// policies from a bundle, and would overwrite the parameter ConfigMap's additions
// on every upgrade, so none of them becomes a bundle manifest: the manager installs
// them itself (InstallPolicyFlag, with the rights of config/manifests'
// admission_installer.yaml).
var admissionKinds = map[string]bool{"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true}

// admissionPolicy consumes config/admission's objects and, when there are any,
// tells the manager to install them.
func admissionPolicy(objs []*unstructured.Unstructured, csv *v1alpha1.ClusterServiceVersion, consumed map[*unstructured.Unstructured]bool) error {
	var params []string
	found := false
	for _, u := range objs {
		if !admissionKinds[u.GetKind()] {
			continue
		}
		found = true
		consumed[u] = true
		if name, ok, _ := unstructured.NestedString(u.Object, "spec", "paramRef", "name"); ok {
			params = append(params, name)
		}
	}
	for _, u := range objs {
		if u.GetKind() == "ConfigMap" && slices.Contains(params, u.GetName()) {
			consumed[u] = true
		}
	}
	if !found {
		return nil
	}
	deps := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs
	for i := range deps {
		cs := deps[i].Spec.Template.Spec.Containers
		for j := range cs {
			if cs[j].Name == "manager" {
				cs[j].Args = append(cs[j].Args, InstallPolicyFlag)
				return nil
			}
		}
	}
	return fmt.Errorf("config/admission is installed, but the CSV has no manager container to install it")
}

func bindsServiceAccount(subjects []rbacv1.Subject, sa string) bool {
	for _, s := range subjects {
		if s.Kind == "ServiceAccount" && s.Name == sa {
			return true
		}
	}
	return false
}

func appendRules(perms []v1alpha1.StrategyDeploymentPermissions, sa string, rules []rbacv1.PolicyRule) []v1alpha1.StrategyDeploymentPermissions {
	for i := range perms {
		if perms[i].ServiceAccountName == sa {
			perms[i].Rules = append(perms[i].Rules, rules...)
			return perms
		}
	}
	return append(perms, v1alpha1.StrategyDeploymentPermissions{ServiceAccountName: sa, Rules: rules})
}

// skipKinds never become separate bundle manifests: OLM creates the namespace,
// the CSV and CRDs are written on their own, the scorecard configuration goes to
// tests/.
var skipKinds = map[string]bool{
	"Namespace": true, "ClusterServiceVersion": true, "CustomResourceDefinition": true, "Configuration": true,
}

// others writes every remaining object (metrics Service, helper ClusterRoles) as
// its own manifest, without a namespace: OLM installs them into the operator's.
func others(objs []*unstructured.Unstructured, consumed map[*unstructured.Unstructured]bool, res *Result) error {
	for _, u := range objs {
		if consumed[u] || skipKinds[u.GetKind()] {
			continue
		}
		c := u.DeepCopy()
		c.SetNamespace("")
		data, err := manifest.Encode(c.Object)
		if err != nil {
			return err
		}
		gv := strings.ReplaceAll(c.GetAPIVersion(), "/", "_")
		res.Files[fmt.Sprintf("manifests/%s_%s_%s.yaml", c.GetName(), gv, strings.ToLower(c.GetKind()))] = data
	}
	return nil
}

// scorecard writes the scorecard Configuration into tests/scorecard/config.yaml.
func scorecard(objs []*unstructured.Unstructured, res *Result) error {
	cfgs := manifest.Find(objs, "Configuration")
	if len(cfgs) != 1 {
		return fmt.Errorf("want exactly one scorecard Configuration, found %d", len(cfgs))
	}
	data, err := manifest.Encode(cfgs[0].Object)
	if err != nil {
		return err
	}
	res.Files["tests/scorecard/config.yaml"] = data
	return nil
}

// encodeCSV renders the CSV without the noise of zero values the API types carry
// (empty status, null timestamps).
func encodeCSV(csv *v1alpha1.ClusterServiceVersion) ([]byte, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(csv)
	if err != nil {
		return nil, err
	}
	delete(u, "status")
	prune(u)
	return manifest.Encode(u)
}

// prune removes null values and the empty objects the typed round trip adds
// (strategy: {}, resources: {}); empty objects that carry meaning in pod specs
// (emptyDir: {}) are kept.
func prune(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		if l, ok := v.([]any); ok {
			for _, e := range l {
				prune(e)
			}
		}
		return
	}
	for k, e := range m {
		prune(e)
		if e == nil {
			delete(m, k)
			continue
		}
		if em, ok := e.(map[string]any); ok && len(em) == 0 && k != "emptyDir" && k != "selector" {
			delete(m, k)
		}
	}
}

// annotationsYAML renders metadata/annotations.yaml.
func annotationsYAML(o Options) []byte {
	var b strings.Builder
	b.WriteString("annotations:\n")
	for _, kv := range o.Annotations() {
		fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
	}
	return []byte(b.String())
}

// dockerfile renders bundle.Dockerfile with the annotations as labels.
func dockerfile(o Options) []byte {
	var b strings.Builder
	b.WriteString("# Generated by hack/bundlegen (make bundle-offline). DO NOT EDIT.\n")
	b.WriteString("# The labels repeat bundle/metadata/annotations.yaml, as OLM requires.\nFROM scratch\n\n")
	for _, kv := range o.Annotations() {
		fmt.Fprintf(&b, "LABEL %s=%s\n", kv[0], kv[1])
	}
	b.WriteString("\nCOPY bundle/manifests /manifests/\nCOPY bundle/metadata /metadata/\nCOPY bundle/tests/scorecard /tests/scorecard/\n")
	return []byte(b.String())
}
