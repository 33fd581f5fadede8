package crdcompat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Decode parses a manifest holding exactly one apiextensions.k8s.io/v1
// CustomResourceDefinition, as controller-gen and operator-sdk write them (a
// leading "---" is fine).
//
// It is strict on purpose, because a lenient decode would let a frozen-schema
// check pass vacuously: a file with a second document (which a plain YAML
// decode would silently ignore), a field the CRD type does not have (a typo
// would otherwise vanish along with the constraint it was meant to be), or
// another kind or API version (whose schema would decode as empty) is an
// error, not an empty CRD.
func Decode(data []byte) (*apiextensionsv1.CustomResourceDefinition, error) {
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("split YAML documents: %w", err)
		}
		var probe map[string]any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		if len(probe) == 0 {
			continue // blank or comments only, e.g. before a leading "---"
		}
		docs = append(docs, doc)
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("want exactly one YAML document, found %d", len(docs))
	}

	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(docs[0], crd); err != nil {
		return nil, fmt.Errorf("decode CustomResourceDefinition: %w", err)
	}
	if crd.APIVersion != apiextensionsv1.SchemeGroupVersion.String() || crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("want %s CustomResourceDefinition, found %s %s",
			apiextensionsv1.SchemeGroupVersion, crd.APIVersion, crd.Kind)
	}
	return crd, nil
}
