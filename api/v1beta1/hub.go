package v1beta1

// v1beta1 is the conversion hub (sigs.k8s.io/controller-runtime/pkg/conversion):
// every other version converts to and from it, so n versions need n-1 conversions.

// Hub marks ClusterPropagation as the conversion hub.
func (*ClusterPropagation) Hub() {}

// Hub marks Propagation as the conversion hub.
func (*Propagation) Hub() {}
