package crdcompat_test

import (
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/internal/crdcompat"
)

// schemaOf decodes a schema written as YAML, the way it reads in a CRD
// manifest, so that each case shows the two schemas side by side.
func schemaOf(t *testing.T, text string) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	s := &apiextensionsv1.JSONSchemaProps{}
	if err := yaml.UnmarshalStrict([]byte(text), s); err != nil {
		t.Fatalf("schema %q: %v", text, err)
	}
	return s
}

// crdOf builds a small namespaced CRD whose only version, v1, has the schema.
func crdOf(t *testing.T, schema string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	return &apiextensionsv1.CustomResourceDefinition{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Kind: "Widget", ListKind: "WidgetList", Plural: "widgets", Singular: "widget",
			},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema:       &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: schemaOf(t, schema)},
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
			}},
		},
	}
}

// base is the schema most CRD-level cases start from.
const base = `
type: object
properties:
  spec:
    type: object
    properties:
      name: {type: string}
`

// compareCase is one released/current pair. When mutate is set, both CRDs are
// built from released and mutate changes the current one (and may change the
// released one too); otherwise current is built from the current schema.
type compareCase struct {
	name     string
	released string
	current  string
	mutate   func(released, current *apiextensionsv1.CustomResourceDefinition)
	want     []string
}

func run(t *testing.T, cases []compareCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			released := crdOf(t, tc.released)
			var current *apiextensionsv1.CustomResourceDefinition
			if tc.mutate != nil {
				current = released.DeepCopy()
				tc.mutate(released, current)
			} else {
				current = crdOf(t, tc.current)
			}
			got := render(crdcompat.Compare(released, current, "v1"))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Compare:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func render(vs []crdcompat.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}

func v1(c *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinitionVersion {
	return &c.Spec.Versions[0]
}

func TestCRDLevelChangesAreReported(t *testing.T) {
	run(t, []compareCase{
		{
			name: "version removed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { v1(c).Name = "v2" },
			want:   []string{"crd:spec.versions[v1]: version removed"},
		},
		{
			name: "version no longer served", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { v1(c).Served = false },
			want:   []string{"crd:spec.versions[v1].served: version is no longer served"},
		},
		{
			name: "scope changed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Scope = apiextensionsv1.ClusterScoped },
			want:   []string{`crd:spec.scope: changed from "Namespaced" to "Cluster"`},
		},
		{
			name: "group changed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Group = "example.org" },
			want:   []string{`crd:spec.group: changed from "example.com" to "example.org"`},
		},
		{
			name: "kind changed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Names.Kind = "Gadget" },
			want:   []string{`crd:spec.names.kind: changed from "Widget" to "Gadget"`},
		},
		{
			name: "plural changed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Names.Plural = "widgetz" },
			want:   []string{`crd:spec.names.plural: changed from "widgets" to "widgetz"`},
		},
		{
			name: "listKind changed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Names.ListKind = "Widgets" },
			want:   []string{`crd:spec.names.listKind: changed from "WidgetList" to "Widgets"`},
		},
		{
			name: "schema removed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { v1(c).Schema = nil },
			want:   []string{"crd:spec.versions[v1].schema: schema removed"},
		},
		{
			name: "status subresource removed", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) { v1(c).Subresources = nil },
			want:   []string{"crd:spec.versions[v1].subresources.status: status subresource removed"},
		},
		{
			name: "scale subresource removed", released: base,
			mutate: func(r, c *apiextensionsv1.CustomResourceDefinition) {
				v1(r).Subresources.Scale = &apiextensionsv1.CustomResourceSubresourceScale{
					SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
				}
			},
			want: []string{"crd:spec.versions[v1].subresources.scale: scale subresource removed"},
		},
		{
			name: "selectable field removed", released: base,
			mutate: func(r, _ *apiextensionsv1.CustomResourceDefinition) {
				v1(r).SelectableFields = []apiextensionsv1.SelectableField{{JSONPath: ".spec.name"}}
			},
			want: []string{`crd:spec.versions[v1].selectableFields: selectable field ".spec.name" removed`},
		},
	})
}

func TestVersionUnknownToReleaseIsReported(t *testing.T) {
	c := crdOf(t, base)
	got := render(crdcompat.Compare(c, c, "v9"))
	want := []string{"crd:spec.versions[v9]: version not found in the released CRD"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSchemaChangesAreReported(t *testing.T) {
	run(t, []compareCase{
		// Properties removed, at every depth.
		{
			name:     "top-level property removed",
			released: `{type: object, properties: {spec: {type: object}, extra: {type: string}}}`,
			current:  `{type: object, properties: {spec: {type: object}}}`,
			want:     []string{"extra: property removed"},
		},
		{
			name:     "nested property removed",
			released: `{type: object, properties: {spec: {type: object, properties: {template: {type: object, properties: {includeKeys: {type: array, items: {type: string}}}}}}}}`,
			current:  `{type: object, properties: {spec: {type: object, properties: {template: {type: object}}}}}`,
			want:     []string{"spec.template.includeKeys: property removed"},
		},
		{
			name:     "property removed inside items",
			released: `{type: object, properties: {sources: {type: array, items: {type: object, properties: {kind: {type: string}, name: {type: string}}}}}}`,
			current:  `{type: object, properties: {sources: {type: array, items: {type: object, properties: {kind: {type: string}}}}}}`,
			want:     []string{"sources[*].name: property removed"},
		},
		{
			name:     "property removed inside additionalProperties",
			released: `{type: object, properties: {byName: {type: object, additionalProperties: {type: object, properties: {a: {type: string}, b: {type: string}}}}}}`,
			current:  `{type: object, properties: {byName: {type: object, additionalProperties: {type: object, properties: {a: {type: string}}}}}}`,
			want:     []string{"byName[*].b: property removed"},
		},
		{
			name:     "property with an unusual name removed",
			released: `{type: object, properties: {labels: {type: object, properties: {"app.kubernetes.io/name": {type: string}}}}}`,
			current:  `{type: object, properties: {labels: {type: object}}}`,
			want:     []string{`labels["app.kubernetes.io/name"]: property removed`},
		},
		{
			name:     "items schema removed",
			released: `{type: object, properties: {l: {type: array, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array}}}`,
			want:     []string{"l[*]: items schema removed"},
		},
		{
			name:     "additionalProperties removed",
			released: `{type: object, properties: {m: {type: object, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {m: {type: object}}}`,
			want:     []string{"m[*]: additionalProperties removed (map values are no longer accepted)"},
		},
		{
			name:     "additionalProperties true narrowed to a schema",
			released: `{type: object, properties: {m: {type: object, additionalProperties: true}}}`,
			current:  `{type: object, properties: {m: {type: object, additionalProperties: {type: string}}}}`,
			want:     []string{`m[*]: type changed from (none) to "string"`},
		},

		// Type and format.
		{
			name:     "type changed (and nothing below it reported)",
			released: `{type: object, properties: {num: {type: string, maxLength: 5}}}`,
			current:  `{type: object, properties: {num: {type: integer, maximum: 3}}}`,
			want:     []string{`num: type changed from "string" to "integer"`},
		},
		{
			name:     "format added",
			released: `{type: object, properties: {t: {type: string}}}`,
			current:  `{type: object, properties: {t: {type: string, format: date-time}}}`,
			want:     []string{`t: format "date-time" added`},
		},
		{
			name:     "format changed",
			released: `{type: object, properties: {t: {type: integer, format: int64}}}`,
			current:  `{type: object, properties: {t: {type: integer, format: int32}}}`,
			want:     []string{`t: format changed from "int64" to "int32"`},
		},

		// Required.
		{
			name:     "existing field became required",
			released: `{type: object, properties: {spec: {type: object, properties: {a: {type: string}}}}}`,
			current:  `{type: object, properties: {spec: {type: object, required: [a], properties: {a: {type: string}}}}}`,
			want:     []string{"spec.a: field became required"},
		},
		{
			name:     "new property added as required",
			released: `{type: object, properties: {spec: {type: object, properties: {a: {type: string}}}}}`,
			current:  `{type: object, properties: {spec: {type: object, required: [b], properties: {a: {type: string}, b: {type: string}}}}}`,
			want:     []string{"spec.b: new property added as required"},
		},

		// Enum.
		{
			name:     "enum value removed",
			released: `{type: object, properties: {p: {type: string, enum: [Skip, Adopt, Overwrite]}}}`,
			current:  `{type: object, properties: {p: {type: string, enum: [Skip, Overwrite]}}}`,
			want:     []string{`p: enum value "Adopt" removed`},
		},
		{
			name:     "enum added",
			released: `{type: object, properties: {p: {type: string}}}`,
			current:  `{type: object, properties: {p: {type: string, enum: [A, B]}}}`,
			want:     []string{`p: enum added: ["A", "B"]`},
		},

		// Pattern.
		{
			name:     "pattern added",
			released: `{type: object, properties: {s: {type: string}}}`,
			current:  `{type: object, properties: {s: {type: string, pattern: '^[a-z]+$'}}}`,
			want:     []string{`s: pattern added: "^[a-z]+$"`},
		},
		{
			name:     "pattern changed, even to a looser one",
			released: `{type: object, properties: {s: {type: string, pattern: '^[a-z]+$'}}}`,
			current:  `{type: object, properties: {s: {type: string, pattern: '^[a-z0-9]+$'}}}`,
			want:     []string{`s: pattern changed from "^[a-z]+$" to "^[a-z0-9]+$"`},
		},

		// Limits.
		{
			name:     "maxLength added",
			released: `{type: object, properties: {s: {type: string}}}`,
			current:  `{type: object, properties: {s: {type: string, maxLength: 10}}}`,
			want:     []string{"s: maxLength added (10)"},
		},
		{
			name:     "maxLength lowered",
			released: `{type: object, properties: {s: {type: string, maxLength: 253}}}`,
			current:  `{type: object, properties: {s: {type: string, maxLength: 63}}}`,
			want:     []string{"s: maxLength lowered from 253 to 63"},
		},
		{
			name:     "maxItems added",
			released: `{type: object, properties: {l: {type: array, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, maxItems: 8, items: {type: string}}}}`,
			want:     []string{"l: maxItems added (8)"},
		},
		{
			name:     "maxItems lowered",
			released: `{type: object, properties: {l: {type: array, maxItems: 64, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, maxItems: 32, items: {type: string}}}}`,
			want:     []string{"l: maxItems lowered from 64 to 32"},
		},
		{
			name:     "maxProperties added",
			released: `{type: object, properties: {m: {type: object, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {m: {type: object, maxProperties: 4, additionalProperties: {type: string}}}}`,
			want:     []string{"m: maxProperties added (4)"},
		},
		{
			name:     "maxProperties lowered",
			released: `{type: object, properties: {m: {type: object, maxProperties: 8, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {m: {type: object, maxProperties: 4, additionalProperties: {type: string}}}}`,
			want:     []string{"m: maxProperties lowered from 8 to 4"},
		},
		{
			name:     "minLength added",
			released: `{type: object, properties: {s: {type: string}}}`,
			current:  `{type: object, properties: {s: {type: string, minLength: 1}}}`,
			want:     []string{"s: minLength added (1)"},
		},
		{
			name:     "minLength raised",
			released: `{type: object, properties: {s: {type: string, minLength: 1}}}`,
			current:  `{type: object, properties: {s: {type: string, minLength: 3}}}`,
			want:     []string{"s: minLength raised from 1 to 3"},
		},
		{
			name:     "minItems added",
			released: `{type: object, properties: {l: {type: array, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, minItems: 1, items: {type: string}}}}`,
			want:     []string{"l: minItems added (1)"},
		},
		{
			name:     "minItems raised",
			released: `{type: object, properties: {l: {type: array, minItems: 1, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, minItems: 2, items: {type: string}}}}`,
			want:     []string{"l: minItems raised from 1 to 2"},
		},
		{
			name:     "minProperties added",
			released: `{type: object, properties: {m: {type: object, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {m: {type: object, minProperties: 1, additionalProperties: {type: string}}}}`,
			want:     []string{"m: minProperties added (1)"},
		},
		{
			name:     "minProperties raised",
			released: `{type: object, properties: {m: {type: object, minProperties: 1, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {m: {type: object, minProperties: 2, additionalProperties: {type: string}}}}`,
			want:     []string{"m: minProperties raised from 1 to 2"},
		},
		{
			name:     "maximum added",
			released: `{type: object, properties: {i: {type: integer}}}`,
			current:  `{type: object, properties: {i: {type: integer, maximum: 100}}}`,
			want:     []string{"i: maximum added (100)"},
		},
		{
			name:     "maximum lowered",
			released: `{type: object, properties: {i: {type: number, maximum: 100}}}`,
			current:  `{type: object, properties: {i: {type: number, maximum: 99.5}}}`,
			want:     []string{"i: maximum lowered from 100 to 99.5"},
		},
		{
			name:     "exclusiveMaximum tightened",
			released: `{type: object, properties: {i: {type: integer, maximum: 100}}}`,
			current:  `{type: object, properties: {i: {type: integer, maximum: 100, exclusiveMaximum: true}}}`,
			want:     []string{"i: exclusiveMaximum set (maximum 100)"},
		},
		{
			name:     "minimum added",
			released: `{type: object, properties: {i: {type: integer}}}`,
			current:  `{type: object, properties: {i: {type: integer, minimum: 0, exclusiveMinimum: true}}}`,
			want:     []string{"i: minimum added (0, exclusive)"},
		},
		{
			name:     "minimum raised",
			released: `{type: object, properties: {i: {type: integer, minimum: 0}}}`,
			current:  `{type: object, properties: {i: {type: integer, minimum: 1}}}`,
			want:     []string{"i: minimum raised from 0 to 1"},
		},
		{
			name:     "exclusiveMinimum tightened",
			released: `{type: object, properties: {i: {type: integer, minimum: 0}}}`,
			current:  `{type: object, properties: {i: {type: integer, minimum: 0, exclusiveMinimum: true}}}`,
			want:     []string{"i: exclusiveMinimum set (minimum 0)"},
		},
		{
			name:     "multipleOf changed to a non-divisor",
			released: `{type: object, properties: {i: {type: integer, multipleOf: 2}}}`,
			current:  `{type: object, properties: {i: {type: integer, multipleOf: 3}}}`,
			want:     []string{"i: multipleOf changed from 2 to 3"},
		},
		{
			name:     "uniqueItems set",
			released: `{type: object, properties: {l: {type: array, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, uniqueItems: true, items: {type: string}}}}`,
			want:     []string{"l: uniqueItems set"},
		},

		// CEL rules.
		{
			name:     "validation rule added",
			released: `{type: object, properties: {spec: {type: object}}}`,
			current:  `{type: object, properties: {spec: {type: object, x-kubernetes-validations: [{rule: "has(self.a)"}]}}}`,
			want:     []string{"spec: validation rule added: has(self.a)"},
		},
		{
			name:     "validation rule changed",
			released: `{type: object, x-kubernetes-validations: [{rule: "size(self.metadata.name) <= 63"}]}`,
			current:  `{type: object, x-kubernetes-validations: [{rule: "size(self.metadata.name) <= 52"}]}`,
			want:     []string{"(root): validation rule added: size(self.metadata.name) <= 52"},
		},
		{
			name:     "validation rule now evaluated without oldSelf",
			released: `{type: object, properties: {s: {type: string, x-kubernetes-validations: [{rule: "self == oldSelf"}]}}}`,
			current:  `{type: object, properties: {s: {type: string, x-kubernetes-validations: [{rule: "self == oldSelf", optionalOldSelf: true}]}}}`,
			want:     []string{"s: validation rule now sets optionalOldSelf: self == oldSelf"},
		},

		// Extensions and nullable.
		{
			name:     "list type changed",
			released: `{type: object, properties: {l: {type: array, x-kubernetes-list-type: atomic, items: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, x-kubernetes-list-type: set, items: {type: string}}}}`,
			want:     []string{`l: x-kubernetes-list-type changed from "atomic" to "set"`},
		},
		{
			name:     "list map keys changed",
			released: `{type: object, properties: {l: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [type], items: {type: object, required: [type, name], properties: {type: {type: string}, name: {type: string}}}}}}`,
			current:  `{type: object, properties: {l: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [type, name], items: {type: object, required: [type, name], properties: {type: {type: string}, name: {type: string}}}}}}`,
			want:     []string{"l: x-kubernetes-list-map-keys changed from [type] to [name, type]"},
		},
		{
			name:     "map type changed",
			released: `{type: object, properties: {m: {type: object, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {m: {type: object, x-kubernetes-map-type: atomic, additionalProperties: {type: string}}}}`,
			want:     []string{`m: x-kubernetes-map-type changed from "granular" to "atomic"`},
		},
		{
			name:     "nullable removed",
			released: `{type: object, properties: {s: {type: string, nullable: true}}}`,
			current:  `{type: object, properties: {s: {type: string}}}`,
			want:     []string{"s: nullable removed (null is no longer accepted)"},
		},
		{
			name:     "preserve-unknown-fields removed",
			released: `{type: object, properties: {raw: {type: object, x-kubernetes-preserve-unknown-fields: true}}}`,
			current:  `{type: object, properties: {raw: {type: object, x-kubernetes-preserve-unknown-fields: false}}}`,
			want:     []string{"raw: x-kubernetes-preserve-unknown-fields removed (unknown fields are now pruned)"},
		},
		{
			name:     "int-or-string changed",
			released: `{type: object, properties: {port: {x-kubernetes-int-or-string: true}}}`,
			current:  `{type: object, properties: {port: {}}}`,
			want:     []string{"port: x-kubernetes-int-or-string changed from true to false"},
		},
		{
			name:     "embedded-resource changed",
			released: `{type: object, properties: {obj: {type: object, x-kubernetes-preserve-unknown-fields: true}}}`,
			current:  `{type: object, properties: {obj: {type: object, x-kubernetes-preserve-unknown-fields: true, x-kubernetes-embedded-resource: true}}}`,
			want:     []string{"obj: x-kubernetes-embedded-resource changed from false to true"},
		},

		// Defaults.
		{
			name:     "default changed",
			released: `{type: object, properties: {p: {type: string, default: Skip}}}`,
			current:  `{type: object, properties: {p: {type: string, default: Adopt}}}`,
			want:     []string{`p: default changed from "Skip" to "Adopt"`},
		},
		{
			name:     "default removed",
			released: `{type: object, properties: {p: {type: object, default: {a: 1}}}}`,
			current:  `{type: object, properties: {p: {type: object}}}`,
			want:     []string{`p: default removed (was {"a":1})`},
		},

		// Combinators.
		{
			name:     "allOf added",
			released: `{type: object, properties: {s: {type: string}}}`,
			current:  `{type: object, properties: {s: {type: string, allOf: [{maxLength: 3}]}}}`,
			want:     []string{"s: allOf added or changed"},
		},
	})
}

func TestSafeChangesAreNotReported(t *testing.T) {
	run(t, []compareCase{
		{
			name:     "identical",
			released: base, current: base,
		},
		{
			name:     "new optional property, at the top and nested and in items",
			released: `{type: object, properties: {spec: {type: object, properties: {l: {type: array, items: {type: object, properties: {a: {type: string}}}}}}}}`,
			current:  `{type: object, properties: {spec: {type: object, properties: {count: {type: integer}, l: {type: array, items: {type: object, properties: {a: {type: string}, b: {type: string}}}}}}, status: {type: object}}}`,
		},
		{
			name:     "descriptions, title and example",
			released: `{type: object, description: old, properties: {s: {type: string, description: old}}}`,
			current:  `{type: object, description: new, properties: {s: {type: string, description: new, title: T, example: x}}}`,
		},
		{
			name:     "limits loosened",
			released: `{type: object, properties: {s: {type: string, minLength: 2, maxLength: 10}, l: {type: array, minItems: 2, maxItems: 4, items: {type: string}}, m: {type: object, minProperties: 2, maxProperties: 4, additionalProperties: {type: string}}, i: {type: integer, minimum: 1, maximum: 9, exclusiveMinimum: true, exclusiveMaximum: true}}}`,
			current:  `{type: object, properties: {s: {type: string, minLength: 1, maxLength: 20}, l: {type: array, maxItems: 8, items: {type: string}}, m: {type: object, maxProperties: 8, additionalProperties: {type: string}}, i: {type: integer, minimum: 0, maximum: 10}}}`,
		},
		{
			name:     "exclusive bounds dropped at the same value",
			released: `{type: object, properties: {i: {type: integer, minimum: 1, maximum: 9, exclusiveMinimum: true, exclusiveMaximum: true}}}`,
			current:  `{type: object, properties: {i: {type: integer, minimum: 1, maximum: 9}}}`,
		},
		{
			name:     "limits removed, and a zero minimum length added",
			released: `{type: object, properties: {s: {type: string, maxLength: 10, pattern: '^a', format: byte}, i: {type: integer, maximum: 3, multipleOf: 2}}}`,
			current:  `{type: object, properties: {s: {type: string, minLength: 0}, i: {type: integer}}}`,
		},
		{
			name:     "multipleOf changed to a divisor",
			released: `{type: object, properties: {i: {type: integer, multipleOf: 4}}}`,
			current:  `{type: object, properties: {i: {type: integer, multipleOf: 2}}}`,
		},
		{
			name:     "enum value added, and an enum removed",
			released: `{type: object, properties: {p: {type: string, enum: [A, B]}, q: {type: string, enum: [X]}}}`,
			current:  `{type: object, properties: {p: {type: string, enum: [C, B, A]}, q: {type: string}}}`,
		},
		{
			name:     "required field no longer required",
			released: `{type: object, required: [spec], properties: {spec: {type: object}}}`,
			current:  `{type: object, properties: {spec: {type: object}}}`,
		},
		{
			name:     "validation rule removed, another's message and reason changed",
			released: `{type: object, x-kubernetes-validations: [{rule: "a", message: old}, {rule: "b"}]}`,
			current:  `{type: object, x-kubernetes-validations: [{rule: "a", message: new, reason: FieldValueForbidden}]}`,
		},
		{
			name:     "optionalOldSelf dropped",
			released: `{type: object, x-kubernetes-validations: [{rule: "self == oldSelf", optionalOldSelf: true}]}`,
			current:  `{type: object, x-kubernetes-validations: [{rule: "self == oldSelf"}]}`,
		},
		{
			name:     "defaults spelled out and loosening markers added",
			released: `{type: object, properties: {l: {type: array, items: {type: string}}, m: {type: object, additionalProperties: {type: string}}, s: {type: string}, raw: {type: object}, any: {type: object, additionalProperties: {type: string}}}}`,
			current:  `{type: object, properties: {l: {type: array, x-kubernetes-list-type: atomic, items: {type: string}}, m: {type: object, x-kubernetes-map-type: granular, additionalProperties: {type: string}}, s: {type: string, nullable: true}, raw: {type: object, x-kubernetes-preserve-unknown-fields: true}, any: {type: object, additionalProperties: true}}}`,
		},
		{
			name:     "list map keys reordered",
			released: `{type: object, properties: {l: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [a, b], items: {type: object, required: [a, b], properties: {a: {type: string}, b: {type: string}}}}}}`,
			current:  `{type: object, properties: {l: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [b, a], items: {type: object, required: [a, b], properties: {a: {type: string}, b: {type: string}}}}}}`,
		},
		{
			name:     "default added, and an equal default written differently",
			released: `{type: object, properties: {p: {type: string}, q: {type: object, default: {a: 1, b: 2}}}}`,
			current:  `{type: object, properties: {p: {type: string, default: x}, q: {type: object, default: {b: 2.0, a: 1}}}}`,
		},
		{
			name: "printer columns, deprecation, another version, storage moved, scale added", released: base,
			mutate: func(_, c *apiextensionsv1.CustomResourceDefinition) {
				v := v1(c)
				v.AdditionalPrinterColumns = []apiextensionsv1.CustomResourceColumnDefinition{{Name: "Name", Type: "string", JSONPath: ".spec.name"}}
				v.Deprecated = true
				v.DeprecationWarning = ptr("example.com/v1 Widget is deprecated; use v2")
				v.Storage = false
				v.Subresources.Scale = &apiextensionsv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas"}
				v2 := v.DeepCopy()
				v2.Name, v2.Storage, v2.Deprecated, v2.DeprecationWarning = "v2", true, false, nil
				c.Spec.Versions = append(c.Spec.Versions, *v2)
				c.Spec.Names.ShortNames = []string{"wd"}
				c.Spec.Names.Categories = []string{"all"}
			},
		},
		{
			name: "a version the release did not serve may stay unserved", released: base,
			mutate: func(r, c *apiextensionsv1.CustomResourceDefinition) {
				v1(r).Served = false
				v1(c).Served = false
			},
		},
	})
}

func TestViolationsAreSortedByPath(t *testing.T) {
	released := crdOf(t, `{type: object, properties: {b: {type: string}, a: {type: object, properties: {z: {type: string}, w: {type: string, maxLength: 5}}}}}`)
	current := crdOf(t, `{type: object, required: [a], properties: {a: {type: object, properties: {w: {type: string, maxLength: 4, pattern: x}}}}}`)
	current.Spec.Scope = apiextensionsv1.ClusterScoped
	for i := 0; i < 20; i++ { // map order differs between runs; the output must not
		got := render(crdcompat.Compare(released, current, "v1"))
		want := []string{
			"a: field became required",
			"a.w: maxLength lowered from 5 to 4",
			`a.w: pattern added: "x"`,
			"a.z: property removed",
			"b: property removed",
			`crd:spec.scope: changed from "Namespaced" to "Cluster"`,
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestNilCRDs(t *testing.T) {
	c := crdOf(t, base)
	if got := render(crdcompat.Compare(nil, c, "v1")); !reflect.DeepEqual(got, []string{"crd:spec: no released CRD to compare with"}) {
		t.Errorf("nil released: %q", got)
	}
	if got := render(crdcompat.Compare(c, nil, "v1")); !reflect.DeepEqual(got, []string{"crd:spec: CRD removed"}) {
		t.Errorf("nil current: %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
