package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterTargets selects the namespaces a ClusterPropagation copies into. A namespace
// is a target when it matches namespaceSelector (if set) AND one of namespaces (if
// set) AND none of excludeNamespaces. The manager's globally excluded namespaces are
// never targets; a source's own namespace is one only with sourceNamespace Include.
//
// +kubebuilder:validation:XValidation:rule="has(self.namespaceSelector) || has(self.namespaces)",message="targets must set namespaceSelector and/or namespaces"
type ClusterTargets struct {
	// NamespaceSelector selects target namespaces by label. `{}` selects all.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Namespace Selector"
	NamespaceSelector *LabelSelector `json:"namespaceSelector,omitempty"`

	// Namespaces are names or glob patterns (`team-*`) of target namespaces.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Namespaces"
	Namespaces []NamespacePattern `json:"namespaces,omitempty"`

	// ExcludeNamespaces are names or glob patterns never targeted.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Exclude Namespaces"
	ExcludeNamespaces []NamespacePattern `json:"excludeNamespaces,omitempty"`

	// SourceNamespace says whether a source's own namespace, when the targets select
	// it, receives a copy of that source: Exclude (default) or Include. Include makes
	// an alias, a copy next to its source under another name, so it needs
	// template.name, namePrefix or nameSuffix.
	// +optional
	// +kubebuilder:default=Exclude
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Source Namespace"
	SourceNamespace SourceNamespacePolicy `json:"sourceNamespace,omitempty"`
}

// SourceNamespacePolicy says whether a source's own namespace is a target.
// +kubebuilder:validation:Enum=Exclude;Include
type SourceNamespacePolicy string

const (
	// SourceNamespaceExclude never copies a source into its own namespace.
	SourceNamespaceExclude SourceNamespacePolicy = "Exclude"
	// SourceNamespaceInclude copies a source into its own namespace, under the
	// name the template gives it, when the targets select that namespace.
	SourceNamespaceInclude SourceNamespacePolicy = "Include"
)

// ClusterPropagationSpec is the desired state of a ClusterPropagation.
//
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.template.name) || (size(self.sources) == 1 && has(self.sources[0].name))",message="template.name (rename) requires exactly one source, referenced by name",fieldPath=".template.name"
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.template.keys) || self.sources.all(s, s.apiVersion == 'v1' && (s.kind == 'Secret' || s.kind == 'ConfigMap'))",message="template.keys apply only to v1 Secret and ConfigMap sources",fieldPath=".template.keys"
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.template.secretType) || self.sources.all(s, s.apiVersion == 'v1' && s.kind == 'Secret')",message="template.secretType applies only to v1 Secret sources",fieldPath=".template.secretType"
// +kubebuilder:validation:XValidation:rule="!has(self.targets.sourceNamespace) || self.targets.sourceNamespace != 'Include' || (has(self.template) && (has(self.template.name) || has(self.template.namePrefix) || has(self.template.nameSuffix)))",message="targets.sourceNamespace Include needs template.name, namePrefix or nameSuffix: a copy in its source's own namespace must have another name",fieldPath=".targets.sourceNamespace"
type ClusterPropagationSpec struct {
	// Sources are the objects to copy.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Sources"
	Sources []SourceReference `json:"sources"`

	// Targets selects the namespaces that receive copies.
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Targets"
	Targets ClusterTargets `json:"targets"`

	// Template says how copies differ from their sources.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Template"
	Template *CopyTemplate `json:"template,omitempty"`

	// ConflictPolicy: Skip (default), Adopt or Overwrite.
	// +optional
	// +kubebuilder:default=Skip
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Conflict Policy"
	ConflictPolicy ConflictPolicy `json:"conflictPolicy,omitempty"`

	// DeletionPolicy: Delete (default) or Orphan.
	// +optional
	// +kubebuilder:default=Delete
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Deletion Policy"
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// ClusterPropagation copies namespaced objects into every namespace its targets select.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cprop,categories=courier
// +kubebuilder:storageversion
// The name is the value of the label that marks every copy, so it must fit a label value.
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is the value of the label that marks every copy"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desired`
// +kubebuilder:printcolumn:name="Synced",type=integer,JSONPath=`.status.synced`
// +kubebuilder:printcolumn:name="Conflicts",type=integer,JSONPath=`.status.conflicting`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +operator-sdk:csv:customresourcedefinitions:displayName="Cluster Propagation",resources={{Secret,v1},{ConfigMap,v1}}
type ClusterPropagation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	// +required
	Spec ClusterPropagationSpec `json:"spec"`

	// Status is the observed state.
	// +optional
	Status PropagationStatus `json:"status,omitempty"`
}

// ClusterPropagationList is a list of ClusterPropagations.
//
// +kubebuilder:object:root=true
type ClusterPropagationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the ClusterPropagations.
	Items []ClusterPropagation `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterPropagation{}, &ClusterPropagationList{})
}
