package crdcompat

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// Violation is one change that makes the current CRD unsafe to install over
// the released one.
//
// Path names where the change is. A path into the version's schema is written
// the way a user reads an object: property names joined with dots, "[*]" for
// the elements of an array or the values of a map (a schema node is one or the
// other, never both, so this is unambiguous), and ["name"] for a property
// whose name is not a plain identifier; "(root)" is the schema's top level. A
// path outside the schema, into the CRD object itself, starts with "crd:"
// (for example "crd:spec.scope"), so that it can never be mistaken for a
// property of the custom resource with the same name.
//
// Change is one sentence saying what changed, with the released value first,
// for example "maxItems lowered from 64 to 32".
type Violation struct {
	Path   string
	Change string
}

// String renders the violation as "path: change", the form a test failure or
// a CI log shows.
func (v Violation) String() string {
	return v.Path + ": " + v.Change
}

// rootPath is how the top of a version's schema is shown: an empty path would
// render as ": change", which reads like a formatting bug.
const rootPath = "(root)"

// crdPrefix starts every path that points into the CRD object rather than into
// the custom resource's schema.
const crdPrefix = "crd:"

// Compare reports every change from released to current, for the named
// version, that an upgrade-safety check would reject, sorted by path (and by
// change within a path) so that the output is the same on every run. An empty
// result means current may replace released.
//
// Only the named version's schema is compared; other versions, added or
// removed, are not looked at (removing another version is that version's own
// check). CRD-wide fields that every version shares (group, names, scope) are
// always compared. A version that the released CRD does not have is reported,
// rather than silently passing, since the caller almost certainly mistyped it.
func Compare(released, current *apiextensionsv1.CustomResourceDefinition, version string) []Violation {
	c := &collector{}
	switch {
	case released == nil:
		c.crd("spec", "no released CRD to compare with")
	case current == nil:
		c.crd("spec", "CRD removed")
	default:
		compareCRD(c, released, current, version)
	}
	sort.SliceStable(c.out, func(i, j int) bool {
		if c.out[i].Path != c.out[j].Path {
			return c.out[i].Path < c.out[j].Path
		}
		return c.out[i].Change < c.out[j].Change
	})
	return c.out
}

// collector accumulates violations; its helpers keep the path conventions in
// one place.
type collector struct {
	out []Violation
}

// schema records a violation at a path inside the version's schema.
func (c *collector) schema(path, format string, args ...any) {
	if path == "" {
		path = rootPath
	}
	c.out = append(c.out, Violation{Path: path, Change: fmt.Sprintf(format, args...)})
}

// crd records a violation at a path inside the CRD object.
func (c *collector) crd(path, format string, args ...any) {
	c.out = append(c.out, Violation{Path: crdPrefix + path, Change: fmt.Sprintf(format, args...)})
}

func compareCRD(c *collector, released, current *apiextensionsv1.CustomResourceDefinition, version string) {
	o, n := &released.Spec, &current.Spec

	// The group and plural make up the REST path and the CRD's own name;
	// kind and listKind are what every client decodes and every manifest
	// says; singular is what kubectl users type. Changing any of them makes
	// existing manifests and clients address something else.
	changedString(c, "spec.group", o.Group, n.Group)
	changedString(c, "spec.names.kind", o.Names.Kind, n.Names.Kind)
	changedString(c, "spec.names.listKind", o.Names.ListKind, n.Names.ListKind)
	changedString(c, "spec.names.plural", o.Names.Plural, n.Names.Plural)
	changedString(c, "spec.names.singular", o.Names.Singular, n.Names.Singular)
	// A namespaced object cannot become cluster-scoped (or the reverse)
	// without every stored object and every client's URLs changing.
	changedString(c, "spec.scope", string(o.Scope), string(n.Scope))

	vpath := fmt.Sprintf("spec.versions[%s]", version)
	ov := findVersion(o.Versions, version)
	if ov == nil {
		c.crd(vpath, "version not found in the released CRD")
		return
	}
	nv := findVersion(n.Versions, version)
	if nv == nil {
		c.crd(vpath, "version removed")
		return
	}
	if ov.Served && !nv.Served {
		c.crd(vpath+".served", "version is no longer served")
	}
	compareSubresources(c, vpath+".subresources", ov.Subresources, nv.Subresources)
	for _, f := range ov.SelectableFields {
		// A field selector that clients use stops working when the field is
		// no longer selectable: the API server refuses the list request.
		if !slices.ContainsFunc(nv.SelectableFields, func(g apiextensionsv1.SelectableField) bool { return g.JSONPath == f.JSONPath }) {
			c.crd(vpath+".selectableFields", "selectable field %q removed", f.JSONPath)
		}
	}

	oschema, nschema := versionSchema(ov), versionSchema(nv)
	switch {
	case oschema == nil:
		// Nothing was promised, so nothing can be broken.
	case nschema == nil:
		c.crd(vpath+".schema", "schema removed")
	default:
		compareSchema(c, "", oschema, nschema)
	}
}

func findVersion(versions []apiextensionsv1.CustomResourceDefinitionVersion, name string) *apiextensionsv1.CustomResourceDefinitionVersion {
	for i := range versions {
		if versions[i].Name == name {
			return &versions[i]
		}
	}
	return nil
}

func versionSchema(v *apiextensionsv1.CustomResourceDefinitionVersion) *apiextensionsv1.JSONSchemaProps {
	if v.Schema == nil {
		return nil
	}
	return v.Schema.OpenAPIV3Schema
}

func changedString(c *collector, path, o, n string) {
	if o != n {
		c.crd(path, "changed from %q to %q", o, n)
	}
}

// compareSubresources reports subresources that clients can no longer use: a
// client writing /status, or an autoscaler or `kubectl scale` using /scale,
// fails once the subresource is gone or points elsewhere. Adding one is safe.
func compareSubresources(c *collector, path string, o, n *apiextensionsv1.CustomResourceSubresources) {
	if o == nil {
		return
	}
	if o.Status != nil && (n == nil || n.Status == nil) {
		c.crd(path+".status", "status subresource removed")
	}
	if o.Scale == nil {
		return
	}
	if n == nil || n.Scale == nil {
		c.crd(path+".scale", "scale subresource removed")
		return
	}
	changedString(c, path+".scale.specReplicasPath", o.Scale.SpecReplicasPath, n.Scale.SpecReplicasPath)
	changedString(c, path+".scale.statusReplicasPath", o.Scale.StatusReplicasPath, n.Scale.StatusReplicasPath)
	changedString(c, path+".scale.labelSelectorPath", deref(o.Scale.LabelSelectorPath), deref(n.Scale.LabelSelectorPath))
}

// compareSchema compares one schema node and everything beneath it. Fields
// that only document (description, title, example, externalDocs) are never
// looked at; fields that a v1 CRD's structural schema may not use at all
// (patternProperties, dependencies, additionalItems, definitions, $ref, ...)
// are not either, since the API server refuses a CRD that sets them.
func compareSchema(c *collector, path string, o, n *apiextensionsv1.JSONSchemaProps) {
	if o.Type != n.Type {
		// Nothing beneath a changed type means what it meant: every stored
		// value is now of the wrong type. Listing the differences below it
		// would only bury the one change that matters.
		c.schema(path, "type changed from %s to %s", quoteOrNone(o.Type), quoteOrNone(n.Type))
		return
	}
	if n.Format != "" && n.Format != o.Format {
		// A format is validated (date-time, int32, ...) and read by clients
		// generated from the schema; removing one only loosens.
		if o.Format == "" {
			c.schema(path, "format %q added", n.Format)
		} else {
			c.schema(path, "format changed from %q to %q", o.Format, n.Format)
		}
	}

	compareEnum(c, path, o.Enum, n.Enum)
	if n.Pattern != "" && n.Pattern != o.Pattern {
		// Two regular expressions cannot be compared for containment in
		// general, so any change is treated as one that may refuse values.
		if o.Pattern == "" {
			c.schema(path, "pattern added: %q", n.Pattern)
		} else {
			c.schema(path, "pattern changed from %q to %q", o.Pattern, n.Pattern)
		}
	}

	upperLimit(c, path, "maxLength", o.MaxLength, n.MaxLength)
	upperLimit(c, path, "maxItems", o.MaxItems, n.MaxItems)
	upperLimit(c, path, "maxProperties", o.MaxProperties, n.MaxProperties)
	lowerLimit(c, path, "minLength", o.MinLength, n.MinLength)
	lowerLimit(c, path, "minItems", o.MinItems, n.MinItems)
	lowerLimit(c, path, "minProperties", o.MinProperties, n.MinProperties)
	compareMaximum(c, path, o, n)
	compareMinimum(c, path, o, n)
	compareMultipleOf(c, path, o.MultipleOf, n.MultipleOf)
	if n.UniqueItems && !o.UniqueItems {
		c.schema(path, "uniqueItems set")
	}

	compareValidations(c, path, o.XValidations, n.XValidations)
	compareExtensions(c, path, o, n)
	compareDefault(c, path, o.Default, n.Default)
	compareCombinators(c, path, o, n)

	compareRequired(c, path, o, n)
	for _, name := range sortedKeys(o.Properties) {
		op := o.Properties[name]
		np, ok := n.Properties[name]
		child := joinProperty(path, name)
		if !ok {
			// Stored objects that set it lose it (it is pruned), and
			// clients that set it are refused or silently dropped.
			c.schema(child, "property removed")
			continue
		}
		compareSchema(c, child, &op, &np)
	}
	compareItems(c, path, o.Items, n.Items)
	compareAdditionalProperties(c, path, o.AdditionalProperties, n.AdditionalProperties)
}

// compareRequired reports every name that current requires and released did
// not: an object written against the release may leave it out.
func compareRequired(c *collector, path string, o, n *apiextensionsv1.JSONSchemaProps) {
	names := slices.Clone(n.Required)
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if slices.Contains(o.Required, name) {
			continue
		}
		if _, existed := o.Properties[name]; existed {
			c.schema(joinProperty(path, name), "field became required")
		} else {
			c.schema(joinProperty(path, name), "new property added as required")
		}
	}
}

// compareEnum reports an enum added where any value was allowed, and every
// value that released allowed and current no longer does. Values are compared
// as JSON values, not as bytes, so a re-serialised manifest does not count as
// a change.
func compareEnum(c *collector, path string, o, n []apiextensionsv1.JSON) {
	if len(n) == 0 {
		return
	}
	if len(o) == 0 {
		vals := make([]string, len(n))
		for i := range n {
			vals[i] = canonical(&n[i])
		}
		c.schema(path, "enum added: [%s]", strings.Join(vals, ", "))
		return
	}
	allowed := make(map[string]bool, len(n))
	for i := range n {
		allowed[canonical(&n[i])] = true
	}
	for i := range o {
		if v := canonical(&o[i]); !allowed[v] {
			c.schema(path, "enum value %s removed", v)
		}
	}
}

// upperLimit reports a maximum-style integer limit that is new or lower.
func upperLimit(c *collector, path, name string, o, n *int64) {
	switch {
	case n == nil:
	case o == nil:
		c.schema(path, "%s added (%d)", name, *n)
	case *n < *o:
		c.schema(path, "%s lowered from %d to %d", name, *o, *n)
	}
}

// lowerLimit reports a minimum-style integer limit that is new or higher. A
// new limit of zero or less is not reported: no length or count is below it.
func lowerLimit(c *collector, path, name string, o, n *int64) {
	switch {
	case n == nil:
	case o == nil:
		if *n > 0 {
			c.schema(path, "%s added (%d)", name, *n)
		}
	case *n > *o:
		c.schema(path, "%s raised from %d to %d", name, *o, *n)
	}
}

func compareMaximum(c *collector, path string, o, n *apiextensionsv1.JSONSchemaProps) {
	switch {
	case n.Maximum == nil:
	case o.Maximum == nil:
		c.schema(path, "maximum added (%s%s)", formatFloat(*n.Maximum), exclusive(n.ExclusiveMaximum))
	case *n.Maximum < *o.Maximum:
		c.schema(path, "maximum lowered from %s to %s", formatFloat(*o.Maximum), formatFloat(*n.Maximum))
	case *n.Maximum == *o.Maximum && n.ExclusiveMaximum && !o.ExclusiveMaximum:
		// The bound itself is no longer allowed.
		c.schema(path, "exclusiveMaximum set (maximum %s)", formatFloat(*n.Maximum))
	}
}

func compareMinimum(c *collector, path string, o, n *apiextensionsv1.JSONSchemaProps) {
	switch {
	case n.Minimum == nil:
	case o.Minimum == nil:
		c.schema(path, "minimum added (%s%s)", formatFloat(*n.Minimum), exclusive(n.ExclusiveMinimum))
	case *n.Minimum > *o.Minimum:
		c.schema(path, "minimum raised from %s to %s", formatFloat(*o.Minimum), formatFloat(*n.Minimum))
	case *n.Minimum == *o.Minimum && n.ExclusiveMinimum && !o.ExclusiveMinimum:
		c.schema(path, "exclusiveMinimum set (minimum %s)", formatFloat(*n.Minimum))
	}
}

// compareMultipleOf reports a new or changed multipleOf, unless the new one
// divides the old one: every multiple of 4 is still a multiple of 2.
func compareMultipleOf(c *collector, path string, o, n *float64) {
	switch {
	case n == nil:
	case o == nil:
		c.schema(path, "multipleOf added (%s)", formatFloat(*n))
	case *n != *o && (*n == 0 || math.Mod(*o, *n) != 0):
		c.schema(path, "multipleOf changed from %s to %s", formatFloat(*o), formatFloat(*n))
	}
}

// compareValidations reports CEL rules that may refuse what released
// accepted. Rules are keyed by their rule text, so editing a rule shows as the
// new text being added (and the old text removed, which is safe). Message,
// messageExpression, reason and fieldPath only shape the error and are not
// compared. A rule that now sets optionalOldSelf is also reported: a
// transition rule that used to be skipped on create now runs there.
func compareValidations(c *collector, path string, o, n apiextensionsv1.ValidationRules) {
	old := make(map[string]apiextensionsv1.ValidationRule, len(o))
	for _, r := range o {
		old[r.Rule] = r
	}
	seen := map[string]bool{}
	for _, r := range n {
		if seen[r.Rule] {
			continue
		}
		seen[r.Rule] = true
		or, ok := old[r.Rule]
		switch {
		case !ok:
			c.schema(path, "validation rule added: %s", r.Rule)
		case deref(r.OptionalOldSelf) && !deref(or.OptionalOldSelf):
			c.schema(path, "validation rule now sets optionalOldSelf: %s", r.Rule)
		}
	}
}

// compareExtensions covers the x-kubernetes-* markers and nullable, which
// change how the API server treats stored and submitted values.
func compareExtensions(c *collector, path string, o, n *apiextensionsv1.JSONSchemaProps) {
	// An unset list type means atomic and an unset map type means granular
	// (the API server's documented defaults), so spelling the default out is
	// no change. Any other change alters server-side apply merging and, for
	// set and map, what lists are accepted.
	if ol, nl := orDefault(o.XListType, "atomic"), orDefault(n.XListType, "atomic"); ol != nl {
		c.schema(path, "x-kubernetes-list-type changed from %q to %q", ol, nl)
	}
	if ok, nk := sortedCopy(o.XListMapKeys), sortedCopy(n.XListMapKeys); !slices.Equal(ok, nk) {
		c.schema(path, "x-kubernetes-list-map-keys changed from [%s] to [%s]", strings.Join(ok, ", "), strings.Join(nk, ", "))
	}
	if om, nm := orDefault(o.XMapType, "granular"), orDefault(n.XMapType, "granular"); om != nm {
		c.schema(path, "x-kubernetes-map-type changed from %q to %q", om, nm)
	}
	if o.Nullable && !n.Nullable {
		c.schema(path, "nullable removed (null is no longer accepted)")
	}
	if deref(o.XPreserveUnknownFields) && !deref(n.XPreserveUnknownFields) {
		// Stored fields the schema does not list are pruned on the next write.
		c.schema(path, "x-kubernetes-preserve-unknown-fields removed (unknown fields are now pruned)")
	}
	if o.XIntOrString != n.XIntOrString {
		c.schema(path, "x-kubernetes-int-or-string changed from %t to %t", o.XIntOrString, n.XIntOrString)
	}
	if o.XEmbeddedResource != n.XEmbeddedResource {
		c.schema(path, "x-kubernetes-embedded-resource changed from %t to %t", o.XEmbeddedResource, n.XEmbeddedResource)
	}
}

// compareDefault reports a default that changed or went away: objects stored
// without the field meant the released default, and would now mean something
// else. A default added where there was none is not reported.
func compareDefault(c *collector, path string, o, n *apiextensionsv1.JSON) {
	if o == nil {
		return
	}
	if n == nil {
		c.schema(path, "default removed (was %s)", canonical(o))
		return
	}
	if ov, nv := canonical(o), canonical(n); ov != nv {
		c.schema(path, "default changed from %s to %s", ov, nv)
	}
}

// compareCombinators reports allOf, anyOf, oneOf and not that are new or
// changed. What a combination of schemas accepts cannot be compared in
// general, so, like patterns, any change counts; removing one only loosens.
func compareCombinators(c *collector, path string, o, n *apiextensionsv1.JSONSchemaProps) {
	for _, k := range []struct {
		name string
		o, n any
		set  bool
	}{
		{"allOf", o.AllOf, n.AllOf, len(n.AllOf) > 0},
		{"anyOf", o.AnyOf, n.AnyOf, len(n.AnyOf) > 0},
		{"oneOf", o.OneOf, n.OneOf, len(n.OneOf) > 0},
		{"not", o.Not, n.Not, n.Not != nil},
	} {
		if k.set && mustJSON(k.o) != mustJSON(k.n) {
			c.schema(path, "%s added or changed", k.name)
		}
	}
}

func compareItems(c *collector, path string, o, n *apiextensionsv1.JSONSchemaPropsOrArray) {
	if o == nil || o.Schema == nil {
		return
	}
	child := path + "[*]"
	if n == nil || n.Schema == nil {
		c.schema(child, "items schema removed")
		return
	}
	compareSchema(c, child, o.Schema, n.Schema)
}

// compareAdditionalProperties compares the schema of a map's values. A
// released "additionalProperties: true" (any value) is compared as an empty
// schema, so whatever current adds to it is reported as the tightening it is.
func compareAdditionalProperties(c *collector, path string, o, n *apiextensionsv1.JSONSchemaPropsOrBool) {
	if o == nil || (!o.Allows && o.Schema == nil) {
		return
	}
	child := path + "[*]"
	if n == nil || (!n.Allows && n.Schema == nil) {
		c.schema(child, "additionalProperties removed (map values are no longer accepted)")
		return
	}
	if n.Schema == nil {
		return // any value is allowed now
	}
	os := o.Schema
	if os == nil {
		os = &apiextensionsv1.JSONSchemaProps{}
	}
	compareSchema(c, child, os, n.Schema)
}

// plainName is a property name that reads unambiguously after a dot.
var plainName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

func joinProperty(path, name string) string {
	if !plainName.MatchString(name) {
		return path + "[" + strconv.Quote(name) + "]"
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// canonical renders a JSON value with object keys sorted and insignificant
// whitespace dropped, so equal values compare equal whatever produced them.
func canonical(j *apiextensionsv1.JSON) string {
	var v any
	if err := json.Unmarshal(j.Raw, &v); err != nil {
		return string(j.Raw) // not JSON: compare the bytes as they are
	}
	return mustJSON(v)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func sortedKeys(m map[string]apiextensionsv1.JSONSchemaProps) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func orDefault(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func exclusive(b bool) string {
	if b {
		return ", exclusive"
	}
	return ""
}
