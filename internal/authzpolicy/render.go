package authzpolicy

import (
	"bytes"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// ConfigNamespace is the namespace config/ writes for Courier's own namespace
// (config/default's kustomization replaces it).
const ConfigNamespace = "system"

// RenderConfig returns config/admission's generated files: the policy, its binding
// and the parameter ConfigMap with their base names (config/default adds the
// prefix) in ConfigNamespace.
func RenderConfig() (map[string][]byte, error) {
	policy, binding, kinds := Policy(), Binding(ConfigNamespace), Kinds(ConfigNamespace)
	policy.Name = BaseName(policy.Name)
	binding.Name = BaseName(binding.Name)
	binding.Spec.PolicyName = BaseName(binding.Spec.PolicyName)
	binding.Spec.ParamRef.Name = BaseName(binding.Spec.ParamRef.Name)
	kinds.Name = BaseName(kinds.Name)
	files := map[string][]byte{}
	for file, obj := range map[string]client.Object{"policy.yaml": policy, "binding.yaml": binding, "kinds.yaml": kinds} {
		data, err := encode(obj)
		if err != nil {
			return nil, err
		}
		files[file] = data
	}
	return files, nil
}

func encode(obj client.Object) ([]byte, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# Generated from internal/authzpolicy by hack/admissiongen (make manifests). DO NOT EDIT.\n")
	b.Write(data)
	return b.Bytes(), nil
}
