package rollout

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workloadKind describes one kind of workload the controller rolls. The three kinds
// differ only in these few functions; everything else is generic.
type workloadKind[T client.Object] struct {
	// name is the kind ("Deployment"), used in metrics, logs and controller names.
	name string
	// gvk is the kind's GroupVersionKind (for the apply).
	gvk schema.GroupVersionKind
	// newObj returns an empty workload.
	newObj func() T
	// newList returns an empty list of the kind (for the field-index lookup).
	newList func() client.ObjectList
	// template returns the workload's pod template.
	template func(T) *corev1.PodTemplateSpec
}

var (
	deployments = workloadKind[*appsv1.Deployment]{
		name:     "Deployment",
		gvk:      appsv1.SchemeGroupVersion.WithKind("Deployment"),
		newObj:   func() *appsv1.Deployment { return &appsv1.Deployment{} },
		newList:  func() client.ObjectList { return &appsv1.DeploymentList{} },
		template: func(o *appsv1.Deployment) *corev1.PodTemplateSpec { return &o.Spec.Template },
	}
	statefulSets = workloadKind[*appsv1.StatefulSet]{
		name:     "StatefulSet",
		gvk:      appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
		newObj:   func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} },
		newList:  func() client.ObjectList { return &appsv1.StatefulSetList{} },
		template: func(o *appsv1.StatefulSet) *corev1.PodTemplateSpec { return &o.Spec.Template },
	}
	daemonSets = workloadKind[*appsv1.DaemonSet]{
		name:     "DaemonSet",
		gvk:      appsv1.SchemeGroupVersion.WithKind("DaemonSet"),
		newObj:   func() *appsv1.DaemonSet { return &appsv1.DaemonSet{} },
		newList:  func() client.ObjectList { return &appsv1.DaemonSetList{} },
		template: func(o *appsv1.DaemonSet) *corev1.PodTemplateSpec { return &o.Spec.Template },
	}
)

// optedIn reports whether a workload carries the opt-in label.
func optedIn(obj client.Object) bool { return obj.GetLabels()[LabelOptIn] == "true" }

// paused reports whether a workload's rollouts are paused.
func paused(obj client.Object) bool { return obj.GetAnnotations()[AnnotationPaused] == "true" }
