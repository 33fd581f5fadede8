package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PropagationSpec is the desired state of a Propagation: pull sources from other
// namespaces into the Propagation's own namespace. Every source must consent with
// the courier.dev/share-with-namespaces or courier.dev/share-with-namespace-selector
// annotation.
//
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.template.name) || (size(self.sources) == 1 && has(self.sources[0].name))",message="template.name (rename) requires exactly one source, referenced by name",fieldPath=".template.name"
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.template.keys) || self.sources.all(s, s.apiVersion == 'v1' && (s.kind == 'Secret' || s.kind == 'ConfigMap'))",message="template.keys apply only to v1 Secret and ConfigMap sources",fieldPath=".template.keys"
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.template.secretType) || self.sources.all(s, s.apiVersion == 'v1' && s.kind == 'Secret')",message="template.secretType applies only to v1 Secret sources",fieldPath=".template.secretType"
type PropagationSpec struct {
	// Sources are the objects to pull. A source in the Propagation's own namespace
	// is pulled only when the template gives its copy another name (template.name,
	// namePrefix or nameSuffix): an alias next to the source.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Sources"
	Sources []SourceReference `json:"sources"`

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

// Propagation pulls shared objects from other namespaces into its own namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=prop,categories=courier
// +kubebuilder:storageversion
// The name is the value of the label that marks every copy, so it must fit a label value.
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is the value of the label that marks every copy"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desired`
// +kubebuilder:printcolumn:name="Synced",type=integer,JSONPath=`.status.synced`
// +kubebuilder:printcolumn:name="Conflicts",type=integer,JSONPath=`.status.conflicting`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +operator-sdk:csv:customresourcedefinitions:displayName="Propagation",resources={{Secret,v1},{ConfigMap,v1}}
type Propagation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state.
	// +required
	Spec PropagationSpec `json:"spec"`

	// Status is the observed state.
	// +optional
	Status PropagationStatus `json:"status,omitempty"`
}

// PropagationList is a list of Propagations.
//
// +kubebuilder:object:root=true
type PropagationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the Propagations.
	Items []Propagation `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Propagation{}, &PropagationList{})
}
