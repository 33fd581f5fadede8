// Package v1alpha1 contains the v1alpha1 API of the courier.dev group:
// ClusterPropagation (cluster-scoped, push to many namespaces) and Propagation
// (namespaced, pull into its own namespace with the source owner's consent).
//
// +kubebuilder:object:generate=true
// +groupName=courier.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "courier.dev", Version: "v1alpha1"}

	// SchemeBuilder registers this package's types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds this package's types to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
