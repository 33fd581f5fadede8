package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The types below that v1alpha1 also has are declared again here, not shared:
// a released version's schema is frozen (docs/api-versions.md), so each version
// owns its types and only conversion ties them together.

// SourceReference names the object(s) a propagation copies: one object by name, or
// every object of the kind in the namespace that matches a label selector.
//
// +kubebuilder:validation:XValidation:rule="has(self.name) != has(self.selector)",message="exactly one of name or selector must be set"
type SourceReference struct {
	// APIVersion of the source, "v1" for Secrets and ConfigMaps, "group/version" otherwise.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?v[0-9]+((alpha|beta)[0-9]+)?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="API Version"
	APIVersion string `json:"apiVersion"`

	// Kind of the source. Must be a namespaced kind; Secret and ConfigMap work out of
	// the box, other kinds need the extra RBAC grant described in docs/propagation.md.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Za-z0-9]*$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Kind"
	Kind string `json:"kind"`

	// Namespace the source lives in.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Namespace"
	Namespace string `json:"namespace"`

	// Name of a single source object. Exactly one of name and selector is set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Name"
	Name string `json:"name,omitempty"`

	// Selector picks every object of the kind in the namespace whose labels match.
	// Exactly one of name and selector is set.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Selector"
	Selector *LabelSelector `json:"selector,omitempty"`
}

// LabelValue is a Kubernetes label value.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
type LabelValue string

// LabelSelector is a Kubernetes label selector with its validation spelled out in the
// schema, so an invalid selector is rejected at admission rather than at reconcile.
// An empty selector matches everything.
type LabelSelector struct {
	// MatchLabels requires each key to have exactly this value.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",message="matchLabels keys must be valid label keys"
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Match Labels"
	MatchLabels map[string]LabelValue `json:"matchLabels,omitempty"`

	// MatchExpressions are set-based requirements; all must hold.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Match Expressions"
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorOperator is the operator of a set-based label requirement.
// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
type LabelSelectorOperator string

// LabelSelectorRequirement is one set-based label requirement.
//
// +kubebuilder:validation:XValidation:rule="(self.operator == 'In' || self.operator == 'NotIn') == (has(self.values) && size(self.values) > 0)",message="values must be non-empty for In and NotIn and empty for Exists and DoesNotExist"
type LabelSelectorRequirement struct {
	// Key is the label key the requirement applies to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Key"
	Key string `json:"key"`

	// Operator is one of In, NotIn, Exists, DoesNotExist.
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Operator"
	Operator LabelSelectorOperator `json:"operator"`

	// Values for In and NotIn; must be empty for Exists and DoesNotExist.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Values"
	Values []LabelValue `json:"values,omitempty"`
}

// NamespacePattern is a namespace name or a glob over namespace names: `*` matches any
// run of characters, `?` exactly one.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^[-a-z0-9*?]+$`
type NamespacePattern string

// KeyPattern is a data key or a glob over data keys (`*`, `?`).
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9*?]+$`
type KeyPattern string

// AnnotationValue is an annotation value on a copy.
// +kubebuilder:validation:MaxLength=4096
type AnnotationValue string

// DataKey is a key of a Secret's or ConfigMap's data.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
type DataKey string

// NamePrefix is prepended to a copy's name.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:Pattern=`^[a-z0-9][-a-z0-9.]*$`
type NamePrefix string

// NameSuffix is appended to a copy's name.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:Pattern=`^[-a-z0-9.]*[a-z0-9]$`
type NameSuffix string

// SecretType is the type of a Secret (`Opaque`, `kubernetes.io/tls`, ...).
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
type SecretType string

// KeyRule is one step of a copy's key rules. The rules run in order, each on the
// keys the rules before it left: include keeps only the keys matching one of its
// globs, exclude drops the keys matching one of its globs, rename gives one key
// another name. Exactly one of include, exclude and rename is set.
//
// +kubebuilder:validation:XValidation:rule="[has(self.include), has(self.exclude), has(self.rename)].filter(x, x).size() == 1",message="each key rule sets exactly one of include, exclude and rename"
type KeyRule struct {
	// Include keeps only the keys that match one of these globs.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Include"
	Include []KeyPattern `json:"include,omitempty"`

	// Exclude drops the keys that match one of these globs.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Exclude"
	Exclude []KeyPattern `json:"exclude,omitempty"`

	// Rename gives one key another name.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Rename"
	Rename *KeyRename `json:"rename,omitempty"`
}

// KeyRename gives the key from the name to. A rule whose key is absent does
// nothing. A copy in which to already exists is not written, and the propagation
// reports it (reason KeyConflict): a rename never silently drops a value.
//
// +kubebuilder:validation:XValidation:rule="self.from != self.to",message="rename.from and rename.to must differ"
type KeyRename struct {
	// From is the key's name in the source.
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="From"
	From DataKey `json:"from"`
	// To is the key's name in the copy.
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="To"
	To DataKey `json:"to"`
}

// CopyTemplate says how a copy differs from its source.
//
// +kubebuilder:validation:XValidation:rule="!has(self.name) || (!has(self.namePrefix) && !has(self.nameSuffix))",message="name (rename one source) and namePrefix/nameSuffix are mutually exclusive",fieldPath=".name"
type CopyTemplate struct {
	// Name renames the copy. Only allowed with exactly one source referenced by name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Copy Name"
	Name string `json:"name,omitempty"`

	// NamePrefix is prepended to the name of every copy, whatever the number of
	// sources. A copy whose name would exceed 253 characters is not written and the
	// propagation reports it.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Name Prefix"
	NamePrefix NamePrefix `json:"namePrefix,omitempty"`

	// NameSuffix is appended to the name of every copy, whatever the number of
	// sources.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Name Suffix"
	NameSuffix NameSuffix `json:"nameSuffix,omitempty"`

	// Labels added to every copy (on top of the source's own labels). Keys under
	// courier.dev/ and app.kubernetes.io/managed-by are reserved.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",message="labels keys must be valid label keys"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('courier.dev/') && k != 'app.kubernetes.io/managed-by')",message="labels must not set reserved keys (courier.dev/*, app.kubernetes.io/managed-by)"
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Labels"
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// Annotations added to every copy (on top of the source's own annotations). Keys
	// under courier.dev/ are reserved.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",message="annotations keys must be valid annotation keys"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('courier.dev/'))",message="annotations must not set reserved keys (courier.dev/*)"
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Annotations"
	Annotations map[string]AnnotationValue `json:"annotations,omitempty"`

	// Keys are the key rules, run in order on the source's data keys (Secrets and
	// ConfigMaps only; a ConfigMap's data and binaryData alike). None means every
	// key under its own name.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Key Rules"
	Keys []KeyRule `json:"keys,omitempty"`

	// SecretType sets the copy's type (Secrets only), for example Opaque to
	// kubernetes.io/dockerconfigjson. When the copy's keys do not fit the type (as
	// the API server checks them), the copy is not written and the propagation
	// reports it (reason SecretTypeMismatch) naming the missing key.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Secret Type"
	SecretType SecretType `json:"secretType,omitempty"`
}

// ConflictPolicy says what to do when a target already holds an object with the
// copy's name that Courier does not manage.
// +kubebuilder:validation:Enum=Skip;Adopt;Overwrite
type ConflictPolicy string

const (
	// ConflictSkip leaves the unmanaged object alone and reports the conflict.
	ConflictSkip ConflictPolicy = "Skip"
	// ConflictAdopt takes the unmanaged object over only when its content already
	// equals the copy (for example a copy made by another tool); otherwise it is
	// left alone and reported like Skip.
	ConflictAdopt ConflictPolicy = "Adopt"
	// ConflictOverwrite takes the unmanaged object over and replaces its content.
	ConflictOverwrite ConflictPolicy = "Overwrite"
)

// DeletionPolicy says what happens to copies that are no longer wanted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionDelete removes copies when the propagation is deleted, a namespace stops
	// matching, or a source goes away.
	DeletionDelete DeletionPolicy = "Delete"
	// DeletionOrphan leaves copies in place without Courier's management labels and
	// copy hash, so they become ordinary objects that no longer follow their source;
	// the courier.dev/source and courier.dev/source-kind annotations stay, a record
	// of where they came from.
	DeletionOrphan DeletionPolicy = "Orphan"
)

// TargetFailure is one target that could not be synced.
type TargetFailure struct {
	// Namespace of the failing target.
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Namespace"
	Namespace string `json:"namespace"`
	// Name of the copy in that namespace.
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Name"
	Name string `json:"name"`
	// Reason is a CamelCase reason such as Conflict or Forbidden.
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Reason"
	Reason string `json:"reason"`
	// Message explains the failure. Never contains object data.
	// +kubebuilder:validation:MaxLength=1024
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Message"
	Message string `json:"message,omitempty"`
}

// MaxReportedFailures bounds status.failures.
const MaxReportedFailures = 20

// PropagationStatus is the observed state shared by ClusterPropagation and Propagation.
type PropagationStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Observed Generation"
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the kstatus conditions Ready, Reconciling and Stalled, plus
	// Forbidden when RBAC prevents reading or writing a kind.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Conditions",xDescriptors="urn:alm:descriptor:io.kubernetes.conditions"
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Desired is the number of copies that should exist.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Desired"
	Desired int32 `json:"desired"`

	// Synced is the number of copies identical to their source.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Synced"
	Synced int32 `json:"synced"`

	// Conflicting is the number of targets holding an unmanaged object that the
	// conflict policy leaves alone.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Conflicting"
	Conflicting int32 `json:"conflicting"`

	// Failed is the number of targets that could not be written.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Failed"
	Failed int32 `json:"failed"`

	// Failures lists up to 20 failing or conflicting targets with a reason.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Failures"
	Failures []TargetFailure `json:"failures,omitempty"`

	// LastSyncTime is when Courier last wrote a copy. Unchanged on steady state.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Last Sync Time"
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}
