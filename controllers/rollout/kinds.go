package rollout

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/objectkind"
)

// workloadKind describes one kind of workload the controller rolls. The kinds differ
// only in these few fields; everything else is generic.
type workloadKind[T client.Object] struct {
	// name is the kind ("Deployment"), used in metrics, logs and controller names.
	name string
	// gvk is the kind's GroupVersionKind (for the apply).
	gvk schema.GroupVersionKind
	// Kind makes empty workloads and lists of them (for the field-index lookup).
	objectkind.Kind[T]
	// template returns the workload's pod template.
	template func(T) *corev1.PodTemplateSpec
	// templatePath is the JSON path of the pod template, where a rollout sets
	// courier.dev/config-hash.
	templatePath []string
	// finished reports whether the workload's last rollout is done (its status);
	// nil for kinds whose rollout replaces no pods (CronJob), which the rollout
	// cap does not count or hold.
	finished func(T) bool
	// jobTemplate returns the template of the Jobs the workload starts; nil for
	// kinds that start none. Only those can start a Job when they roll
	// (AnnotationRunNow).
	jobTemplate func(T) *batchv1.JobTemplateSpec
	// restartPath is the JSON path of the timestamp that restarts the workload's
	// pods without a template change (an Argo Rollout's spec.restartAt); nil for
	// kinds without one. Only those take AnnotationStrategy "restart".
	restartPath []string
	// templateElsewhere names, for a workload whose pod template lives in another
	// object (an Argo Rollout with spec.workloadRef), that object; such a workload
	// is left alone and told to opt that object in instead. Nil: never.
	templateElsewhere func(T) string
}

// Rollout strategies (AnnotationStrategy).
const (
	strategyTemplate = "template"
	strategyRestart  = "restart"
)

// placement is where a rollout of one workload writes: courier.dev/config-hash on
// the pod template (a template change), or, with the restart strategy, on the
// workload's own metadata together with the kind's restart timestamp.
type placement struct {
	gvk          schema.GroupVersionKind
	templatePath []string
	// restartPath is set with the restart strategy.
	restartPath []string
	// keptTemplateHash, with the restart strategy, is the template's
	// courier.dev/config-hash from an earlier template rollout: it is applied
	// unchanged, because dropping it would change the template and roll once more.
	keptTemplateHash string
}

// placementOf returns where rollouts of obj write, and an error for a strategy
// annotation the kind cannot follow (it then rolls by template).
func (k workloadKind[T]) placementOf(obj T) (placement, error) {
	p := placement{gvk: k.gvk, templatePath: k.templatePath}
	switch v, ok := obj.GetAnnotations()[AnnotationStrategy]; {
	case !ok || v == strategyTemplate:
	case v == strategyRestart && k.restartPath != nil:
		p.restartPath = k.restartPath
		p.keptTemplateHash = k.template(obj).Annotations[AnnotationConfigHash]
	case v == strategyRestart:
		return p, fmt.Errorf("%s: %s cannot restart without a template change; it rolls by template", AnnotationStrategy, k.name)
	default:
		return p, fmt.Errorf("%s: %q is neither %q nor %q", AnnotationStrategy, v, strategyTemplate, strategyRestart)
	}
	return p, nil
}

// markers returns the annotations that hold obj's courier.dev/config-hash under p.
func (p placement) markers(obj client.Object, template *corev1.PodTemplateSpec) map[string]string {
	if p.restartPath != nil {
		return obj.GetAnnotations()
	}
	return template.Annotations
}

// podWorkload declares an apps/v1 kind, whose pod template is spec.template.
func podWorkload[T client.Object](kind string, k objectkind.Kind[T], template func(T) *corev1.PodTemplateSpec, finished func(T) bool) workloadKind[T] {
	return workloadKind[T]{name: kind, gvk: appsv1.SchemeGroupVersion.WithKind(kind), Kind: k, template: template,
		templatePath: []string{"spec", "template"}, finished: finished}
}

var (
	deployments = podWorkload("Deployment", objectkind.Of(func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }),
		func(o *appsv1.Deployment) *corev1.PodTemplateSpec { return &o.Spec.Template }, deploymentFinished)
	statefulSets = podWorkload("StatefulSet", objectkind.Of(func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }),
		func(o *appsv1.StatefulSet) *corev1.PodTemplateSpec { return &o.Spec.Template }, statefulSetFinished)
	daemonSets = podWorkload("DaemonSet", objectkind.Of(func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }),
		func(o *appsv1.DaemonSet) *corev1.PodTemplateSpec { return &o.Spec.Template }, daemonSetFinished)
	// A CronJob rolls by its Job template: the next Job it schedules runs with the
	// new configuration (and Jobs already running are left alone).
	cronJobs = workloadKind[*batchv1.CronJob]{
		name: "CronJob", gvk: batchv1.SchemeGroupVersion.WithKind("CronJob"),
		Kind:         objectkind.Of(func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items }),
		template:     func(o *batchv1.CronJob) *corev1.PodTemplateSpec { return &o.Spec.JobTemplate.Spec.Template },
		templatePath: []string{"spec", "jobTemplate", "spec", "template"},
		jobTemplate:  func(o *batchv1.CronJob) *batchv1.JobTemplateSpec { return &o.Spec.JobTemplate },
	}
)

// optedIn reports whether a workload carries the opt-in label.
func optedIn(obj client.Object) bool { return obj.GetLabels()[LabelOptIn] == "true" }

// onKeys reports whether a workload rolls only for the keys it reads.
func onKeys(obj client.Object) bool { return obj.GetAnnotations()[AnnotationOnKeys] == "true" }

// paused reports whether a workload's rollouts are paused.
func paused(obj client.Object) bool { return obj.GetAnnotations()[AnnotationPaused] == "true" }
