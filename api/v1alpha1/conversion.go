package v1alpha1

import (
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/courier-operator/courier/api/v1beta1"
)

// v1alpha1 is a spoke of the v1beta1 hub (docs/api-versions.md). Converting
// v1beta1 → v1alpha1 → v1beta1 loses nothing: what v1alpha1 cannot say (key
// rules other than one include and one exclude set, name prefix and suffix,
// Secret type, sourceNamespace) travels in AnnotationConversionData, as in
// cluster-api. v1alpha1 → v1beta1 → v1alpha1 loses nothing either: every
// v1alpha1 field has a v1beta1 home.

// AnnotationConversionData holds, on a v1alpha1 object converted from v1beta1, the
// v1beta1 fields v1alpha1 cannot express, as JSON. It is the conversion's own:
// converting to v1beta1 consumes it, so stored objects never carry it.
const AnnotationConversionData = "courier.dev/conversion-data"

// conversionData is the content of AnnotationConversionData. A field is set only
// when its v1beta1 value cannot be read back from the v1alpha1 fields.
type conversionData struct {
	// Keys are key rules that are not one include followed by one exclude.
	Keys []v1beta1.KeyRule `json:"keys,omitempty"`
	// NamePrefix, NameSuffix and SecretType have no v1alpha1 field.
	NamePrefix v1beta1.NamePrefix `json:"namePrefix,omitempty"`
	NameSuffix v1beta1.NameSuffix `json:"nameSuffix,omitempty"`
	// Name is template.name when NamePrefix or NameSuffix were recorded (empty in
	// any valid object: they exclude each other). They are restored only while
	// template.name is still this.
	Name       string             `json:"name,omitempty"`
	SecretType v1beta1.SecretType `json:"secretType,omitempty"`
	// SourceNamespace is set when it is not Exclude (or unset), v1alpha1's only
	// behaviour.
	SourceNamespace *v1beta1.SourceNamespacePolicy `json:"sourceNamespace,omitempty"`
}

func (d conversionData) empty() bool {
	return d.Keys == nil && d.NamePrefix == "" && d.NameSuffix == "" && d.Name == "" && d.SecretType == "" && d.SourceNamespace == nil
}

// ConvertTo converts this ClusterPropagation to the hub version.
func (src *ClusterPropagation) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*v1beta1.ClusterPropagation)
	data, err := takeConversionData(&src.ObjectMeta, &dst.ObjectMeta)
	if err != nil {
		return err
	}
	dst.Spec = v1beta1.ClusterPropagationSpec{
		Sources:        sourcesTo(src.Spec.Sources),
		Targets:        targetsTo(src.Spec.Targets, data),
		Template:       templateTo(src.Spec.Template, data),
		ConflictPolicy: v1beta1.ConflictPolicy(src.Spec.ConflictPolicy),
		DeletionPolicy: v1beta1.DeletionPolicy(src.Spec.DeletionPolicy),
	}
	dst.Status = statusTo(src.Status)
	return nil
}

// ConvertFrom converts the hub version to this ClusterPropagation.
func (dst *ClusterPropagation) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*v1beta1.ClusterPropagation)
	var data conversionData
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	dst.Spec = ClusterPropagationSpec{
		Sources:        sourcesFrom(src.Spec.Sources),
		Targets:        targetsFrom(src.Spec.Targets, &data),
		Template:       templateFrom(src.Spec.Template, &data),
		ConflictPolicy: ConflictPolicy(src.Spec.ConflictPolicy),
		DeletionPolicy: DeletionPolicy(src.Spec.DeletionPolicy),
	}
	dst.Status = statusFrom(src.Status)
	return putConversionData(&dst.ObjectMeta, data)
}

// ConvertTo converts this Propagation to the hub version.
func (src *Propagation) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*v1beta1.Propagation)
	data, err := takeConversionData(&src.ObjectMeta, &dst.ObjectMeta)
	if err != nil {
		return err
	}
	dst.Spec = v1beta1.PropagationSpec{
		Sources:        sourcesTo(src.Spec.Sources),
		Template:       templateTo(src.Spec.Template, data),
		ConflictPolicy: v1beta1.ConflictPolicy(src.Spec.ConflictPolicy),
		DeletionPolicy: v1beta1.DeletionPolicy(src.Spec.DeletionPolicy),
	}
	dst.Status = statusTo(src.Status)
	return nil
}

// ConvertFrom converts the hub version to this Propagation.
func (dst *Propagation) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*v1beta1.Propagation)
	var data conversionData
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	dst.Spec = PropagationSpec{
		Sources:        sourcesFrom(src.Spec.Sources),
		Template:       templateFrom(src.Spec.Template, &data),
		ConflictPolicy: ConflictPolicy(src.Spec.ConflictPolicy),
		DeletionPolicy: DeletionPolicy(src.Spec.DeletionPolicy),
	}
	dst.Status = statusFrom(src.Status)
	return putConversionData(&dst.ObjectMeta, data)
}

// takeConversionData copies src's metadata into dst without
// AnnotationConversionData and returns what the annotation held.
func takeConversionData(src, dst *metav1.ObjectMeta) (conversionData, error) {
	*dst = *src.DeepCopy()
	var data conversionData
	raw, ok := dst.Annotations[AnnotationConversionData]
	if !ok {
		return data, nil
	}
	delete(dst.Annotations, AnnotationConversionData)
	if len(dst.Annotations) == 0 {
		dst.Annotations = nil
	}
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		return data, fmt.Errorf("annotation %s is not what a conversion from v1beta1 writes (remove it or use courier.dev/v1beta1): %w", AnnotationConversionData, err)
	}
	return data, nil
}

// putConversionData records data on meta, or removes the annotation when there is
// nothing v1alpha1 cannot say.
func putConversionData(meta *metav1.ObjectMeta, data conversionData) error {
	delete(meta.Annotations, AnnotationConversionData)
	if data.empty() {
		if len(meta.Annotations) == 0 {
			meta.Annotations = nil
		}
		return nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("recording the v1beta1 fields v1alpha1 cannot express: %w", err)
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[AnnotationConversionData] = string(raw)
	return nil
}

func targetsTo(t ClusterTargets, data conversionData) v1beta1.ClusterTargets {
	out := v1beta1.ClusterTargets{
		NamespaceSelector: selectorTo(t.NamespaceSelector),
		Namespaces:        convertSlice[v1beta1.NamespacePattern](t.Namespaces),
		ExcludeNamespaces: convertSlice[v1beta1.NamespacePattern](t.ExcludeNamespaces),
		SourceNamespace:   v1beta1.SourceNamespaceExclude,
	}
	if data.SourceNamespace != nil {
		out.SourceNamespace = *data.SourceNamespace
	}
	return out
}

func targetsFrom(t v1beta1.ClusterTargets, data *conversionData) ClusterTargets {
	// Unset means Exclude: the API server defaults it, and a manifest may omit it.
	if t.SourceNamespace != v1beta1.SourceNamespaceExclude && t.SourceNamespace != "" {
		data.SourceNamespace = &t.SourceNamespace
	}
	return ClusterTargets{
		NamespaceSelector: selectorFrom(t.NamespaceSelector),
		Namespaces:        convertSlice[NamespacePattern](t.Namespaces),
		ExcludeNamespaces: convertSlice[NamespacePattern](t.ExcludeNamespaces),
	}
}

// templateTo converts a template, restoring what data recorded of it. A v1alpha1
// client that edited the fields a recorded value stands for wins: recorded key
// rules are restored only while includeKeys and excludeKeys still read as they
// were written from them, and a name prefix or suffix only while template.name is
// as it was (empty: a rename and a prefix or suffix exclude each other).
func templateTo(t *CopyTemplate, data conversionData) *v1beta1.CopyTemplate {
	if t == nil {
		return nil
	}
	out := &v1beta1.CopyTemplate{
		Name:        t.Name,
		Labels:      convertMap[v1beta1.LabelValue](t.Labels),
		Annotations: convertMap[v1beta1.AnnotationValue](t.Annotations),
		Keys:        keyRulesTo(t.IncludeKeys, t.ExcludeKeys),
		SecretType:  data.SecretType,
	}
	if data.Keys != nil {
		if include, exclude, _ := keySetsOf(data.Keys); slices.Equal(include, t.IncludeKeys) && slices.Equal(exclude, t.ExcludeKeys) {
			out.Keys = data.Keys
		}
	}
	if t.Name == data.Name {
		out.NamePrefix, out.NameSuffix = data.NamePrefix, data.NameSuffix
	}
	return out
}

func templateFrom(t *v1beta1.CopyTemplate, data *conversionData) *CopyTemplate {
	if t == nil {
		return nil
	}
	include, exclude, exact := keySetsOf(t.Keys)
	if !exact {
		data.Keys = t.Keys
	}
	data.NamePrefix, data.NameSuffix, data.SecretType = t.NamePrefix, t.NameSuffix, t.SecretType
	if t.NamePrefix != "" || t.NameSuffix != "" {
		data.Name = t.Name
	}
	return &CopyTemplate{
		Name:        t.Name,
		Labels:      convertMap[LabelValue](t.Labels),
		Annotations: convertMap[AnnotationValue](t.Annotations),
		IncludeKeys: include,
		ExcludeKeys: exclude,
	}
}

// keyRulesTo says v1alpha1's key sets as v1beta1 rules: includeKeys keeps the
// keys matching one of its globs (none: every key), then excludeKeys drops the
// keys matching one of its globs.
func keyRulesTo(include, exclude []KeyPattern) []v1beta1.KeyRule {
	var rules []v1beta1.KeyRule
	if len(include) > 0 {
		rules = append(rules, v1beta1.KeyRule{Include: convertSlice[v1beta1.KeyPattern](include)})
	}
	if len(exclude) > 0 {
		rules = append(rules, v1beta1.KeyRule{Exclude: convertSlice[v1beta1.KeyPattern](exclude)})
	}
	return rules
}

// keySetsOf says key rules as v1alpha1's key sets. exact reports whether the sets
// mean the same as the rules (keyRulesTo gives them back); otherwise the sets are
// what v1alpha1 can show of them (every include and exclude glob, no renames) and
// the rules travel in AnnotationConversionData.
func keySetsOf(rules []v1beta1.KeyRule) (include, exclude []KeyPattern, exact bool) {
	for _, r := range rules {
		include = append(include, convertSlice[KeyPattern](r.Include)...)
		exclude = append(exclude, convertSlice[KeyPattern](r.Exclude)...)
	}
	back := keyRulesTo(include, exclude)
	return include, exclude, equalKeyRules(back, rules)
}

func equalKeyRules(a, b []v1beta1.KeyRule) bool {
	return slices.EqualFunc(a, b, func(x, y v1beta1.KeyRule) bool {
		return slices.Equal(x.Include, y.Include) && slices.Equal(x.Exclude, y.Exclude) &&
			(x.Rename == nil) == (y.Rename == nil) && (x.Rename == nil || *x.Rename == *y.Rename) &&
			(x.Include == nil) == (y.Include == nil) && (x.Exclude == nil) == (y.Exclude == nil)
	})
}

func sourcesTo(in []SourceReference) []v1beta1.SourceReference {
	if in == nil {
		return nil
	}
	out := make([]v1beta1.SourceReference, len(in))
	for i, s := range in {
		out[i] = v1beta1.SourceReference{APIVersion: s.APIVersion, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name, Selector: selectorTo(s.Selector)}
	}
	return out
}

func sourcesFrom(in []v1beta1.SourceReference) []SourceReference {
	if in == nil {
		return nil
	}
	out := make([]SourceReference, len(in))
	for i, s := range in {
		out[i] = SourceReference{APIVersion: s.APIVersion, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name, Selector: selectorFrom(s.Selector)}
	}
	return out
}

func selectorTo(s *LabelSelector) *v1beta1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &v1beta1.LabelSelector{MatchLabels: convertMap[v1beta1.LabelValue](s.MatchLabels)}
	if s.MatchExpressions != nil {
		out.MatchExpressions = make([]v1beta1.LabelSelectorRequirement, len(s.MatchExpressions))
	}
	for i, e := range s.MatchExpressions {
		out.MatchExpressions[i] = v1beta1.LabelSelectorRequirement{Key: e.Key, Operator: v1beta1.LabelSelectorOperator(e.Operator), Values: convertSlice[v1beta1.LabelValue](e.Values)}
	}
	return out
}

func selectorFrom(s *v1beta1.LabelSelector) *LabelSelector {
	if s == nil {
		return nil
	}
	out := &LabelSelector{MatchLabels: convertMap[LabelValue](s.MatchLabels)}
	if s.MatchExpressions != nil {
		out.MatchExpressions = make([]LabelSelectorRequirement, len(s.MatchExpressions))
	}
	for i, e := range s.MatchExpressions {
		out.MatchExpressions[i] = LabelSelectorRequirement{Key: e.Key, Operator: LabelSelectorOperator(e.Operator), Values: convertSlice[LabelValue](e.Values)}
	}
	return out
}

func statusTo(s PropagationStatus) v1beta1.PropagationStatus {
	out := v1beta1.PropagationStatus{
		ObservedGeneration: s.ObservedGeneration, Conditions: slices.Clone(s.Conditions),
		Desired: s.Desired, Synced: s.Synced, Conflicting: s.Conflicting, Failed: s.Failed,
		LastSyncTime: s.LastSyncTime.DeepCopy(),
	}
	if s.Failures != nil {
		out.Failures = make([]v1beta1.TargetFailure, len(s.Failures))
	}
	for i, f := range s.Failures {
		out.Failures[i] = v1beta1.TargetFailure(f)
	}
	return out
}

func statusFrom(s v1beta1.PropagationStatus) PropagationStatus {
	out := PropagationStatus{
		ObservedGeneration: s.ObservedGeneration, Conditions: slices.Clone(s.Conditions),
		Desired: s.Desired, Synced: s.Synced, Conflicting: s.Conflicting, Failed: s.Failed,
		LastSyncTime: s.LastSyncTime.DeepCopy(),
	}
	if s.Failures != nil {
		out.Failures = make([]TargetFailure, len(s.Failures))
	}
	for i, f := range s.Failures {
		out.Failures[i] = TargetFailure(f)
	}
	return out
}

// convertSlice converts between slices of string types of two versions.
func convertSlice[T, F ~string](in []F) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

// convertMap converts between maps of string values of two versions.
func convertMap[T, F ~string](in map[string]F) map[string]T {
	if in == nil {
		return nil
	}
	out := make(map[string]T, len(in))
	for k, v := range in {
		out[k] = T(v)
	}
	return out
}
