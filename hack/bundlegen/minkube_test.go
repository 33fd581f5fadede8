package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/version"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"
)

// oldestCEL and newestCEL bound the CEL compatibility versions tried: 1.25 is the
// first with CRD validation rules, 1.37 the API server Courier builds against.
const oldestCEL, newestCEL = 25, 37

// TestMinKubeVersionFollowsTheCRDs decides the lowest Kubernetes version that
// accepts Courier's CRDs from the CEL rules themselves: each rule is compiled, as
// the API server does when a CRD is created, with the CEL environment of every
// compatibility version (the libraries each version added, from k8s.io/apiserver's
// own table). An API server of version 1.N compiles new expressions at its minimum
// compatibility version 1.(N-1), so the CRDs need 1.(M+1) where 1.M is the lowest
// version whose environment compiles every rule. The CSV's minKubeVersion and the
// chart's kubeVersion must say exactly that (or the floor of another API Courier
// uses, when that is higher).
func TestMinKubeVersionFollowsTheCRDs(t *testing.T) {
	root := repoRoot(t)
	crds := mustKustomize(t, root, "config/crd")
	lowest := 0
	for m := oldestCEL; m <= newestCEL && lowest == 0; m++ {
		errs := compileCRDRules(t, crds, environment.MustBaseEnvSet(version.MajorMinor(1, uint(m))))
		if len(errs) == 0 {
			lowest = m
		} else if m == newestCEL {
			t.Fatalf("the CRDs' rules do not compile even at 1.%d:\n%s", m, strings.Join(errs, "\n"))
		}
	}
	if lowest == oldestCEL {
		t.Fatalf("every rule compiles at 1.%d, the oldest version tried: the walk found no rules, or the table is too short", oldestCEL)
	}
	t.Logf("what 1.%d refuses:\n%s", lowest-1,
		strings.Join(compileCRDRules(t, crds, environment.MustBaseEnvSet(version.MajorMinor(1, uint(lowest-1)))), "\n"))
	// ValidatingAdmissionPolicy v1, which the manager installs, is served from 1.30.
	const admissionPolicyFloor = 30
	needed := max(lowest+1, admissionPolicyFloor)
	t.Logf("every CRD rule compiles from CEL compatibility version 1.%d: the CRDs need Kubernetes 1.%d; Courier needs 1.%d", lowest, lowest+1, needed)
	want := fmt.Sprintf("1.%d.0", needed)
	if got := loadBundle(t).CSV.Spec.MinKubeVersion; got != want {
		t.Errorf("CSV minKubeVersion %s, want %s (config/manifests/bases)", got, want)
	}
	chart, err := readChartKubeVersion(root)
	if err != nil {
		t.Fatal(err)
	}
	if chart != ">="+want+"-0" {
		t.Errorf("chart kubeVersion %q, want \">=%s-0\" (charts/courier/Chart.yaml)", chart, want)
	}
}

// compileCRDRules compiles every x-kubernetes-validations rule of every served
// version of crds in envSet and returns the errors.
func compileCRDRules(t *testing.T, crds []*unstructured.Unstructured, envSet *environment.EnvSet) []string {
	t.Helper()
	var errs []string
	for _, u := range crds {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crd); err != nil {
			t.Fatal(err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			var internal apiextensions.JSONSchemaProps
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
				t.Fatal(err)
			}
			s, err := schema.NewStructural(&internal)
			if err != nil {
				t.Fatalf("%s %s: %v", crd.Name, v.Name, err)
			}
			walkStructural(s, crd.Name+"/"+v.Name, true, func(node *schema.Structural, path string, root bool) {
				if len(node.XValidations) == 0 {
					return
				}
				results, err := cel.Compile(node, model.SchemaDeclType(node, root), celconfig.PerCallLimit, envSet, cel.NewExpressionsEnvLoader())
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", path, err))
					return
				}
				for i, r := range results {
					if r.Error != nil {
						errs = append(errs, fmt.Sprintf("%s rule %q: %s", path, node.XValidations[i].Rule, r.Error.Detail))
					}
					if r.MessageExpressionError != nil {
						errs = append(errs, fmt.Sprintf("%s messageExpression %q: %s", path, node.XValidations[i].MessageExpression, r.MessageExpressionError.Detail))
					}
				}
			})
		}
	}
	return errs
}

// walkStructural calls fn for s and every schema below it.
func walkStructural(s *schema.Structural, path string, root bool, fn func(*schema.Structural, string, bool)) {
	fn(s, path, root)
	for name, p := range s.Properties {
		walkStructural(&p, path+"."+name, false, fn)
	}
	if s.Items != nil {
		walkStructural(s.Items, path+"[]", false, fn)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		walkStructural(s.AdditionalProperties.Structural, path+"{}", false, fn)
	}
}

// readChartKubeVersion reads the chart's kubeVersion constraint.
func readChartKubeVersion(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "charts", "courier", "Chart.yaml"))
	if err != nil {
		return "", err
	}
	var c struct {
		KubeVersion string `json:"kubeVersion"`
	}
	return c.KubeVersion, yaml.Unmarshal(b, &c)
}
