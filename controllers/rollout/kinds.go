package rollout

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/objectkind"
)

// workloadKind describes one kind of workload the controller rolls. The three kinds
// differ only in these few fields; everything else is generic.
type workloadKind[T client.Object] struct {
	// name is the kind ("Deployment"), used in metrics, logs and controller names.
	name string
	// gvk is the kind's GroupVersionKind (for the apply).
	gvk schema.GroupVersionKind
	// Kind makes empty workloads and lists of them (for the field-index lookup).
	objectkind.Kind[T]
	// template returns the workload's pod template.
	template func(T) *corev1.PodTemplateSpec
}

// workloadKindOf declares the workload kind gvk whose objects and lists are made by k.
func workloadKindOf[T client.Object](gvk schema.GroupVersionKind, k objectkind.Kind[T], template func(T) *corev1.PodTemplateSpec) workloadKind[T] {
	return workloadKind[T]{name: gvk.Kind, gvk: gvk, Kind: k, template: template}
}

var (
	deployments = workloadKindOf(appsv1.SchemeGroupVersion.WithKind("Deployment"),
		objectkind.Of(func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }),
		func(o *appsv1.Deployment) *corev1.PodTemplateSpec { return &o.Spec.Template })
	statefulSets = workloadKindOf(appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
		objectkind.Of(func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }),
		func(o *appsv1.StatefulSet) *corev1.PodTemplateSpec { return &o.Spec.Template })
	daemonSets = workloadKindOf(appsv1.SchemeGroupVersion.WithKind("DaemonSet"),
		objectkind.Of(func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }),
		func(o *appsv1.DaemonSet) *corev1.PodTemplateSpec { return &o.Spec.Template })
)

// optedIn reports whether a workload carries the opt-in label.
func optedIn(obj client.Object) bool { return obj.GetLabels()[LabelOptIn] == "true" }

// paused reports whether a workload's rollouts are paused.
func paused(obj client.Object) bool { return obj.GetAnnotations()[AnnotationPaused] == "true" }
