package scorecard

import (
	"context"
	"time"

	"github.com/operator-framework/api/pkg/apis/scorecard/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// RolloutTestName is the scorecard test name (label test=courier-rollout-test).
const RolloutTestName = "courier-rollout"

// appliedHashAnnotation is where the rollout controller records the input hash it
// applied or took as the baseline (docs/rollout.md).
const appliedHashAnnotation = "courier.dev/applied-config-hash"

// Rollout opts a Deployment in, waits until Courier has recorded its baseline
// (without rolling it), changes the ConfigMap it consumes, and expects the
// pod-template annotation courier.dev/config-hash to change exactly once: watched
// from before the change until the settle period after the first rollout.
func Rollout(ctx context.Context, env Env) v1alpha3.TestStatus {
	return runTest(ctx, env, RolloutTestName, rollout)
}

func rollout(ctx context.Context, env Env, r *run) {
	c := env.Client
	ns, err := createNamespace(ctx, c, "courier-scorecard-rollout-", nil)
	if err != nil {
		r.failf("", "namespace: %v", err)
		return
	}
	defer cleanup(context.WithoutCancel(ctx), c, r, ns)

	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "app-config", Namespace: ns.Name},
		Data:       map[string]string{"greeting": "hello"},
	}
	if err := c.Create(ctx, cm); err != nil {
		r.failf("", "ConfigMap: %v", err)
		return
	}
	labels := map[string]string{"app": "courier-scorecard"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns.Name,
			Labels: map[string]string{v1alpha1.LabelRolloutOnChange: "true"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.k8s.io/pause:3.10",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}}},
				}}},
			},
		},
	}
	if err := c.Create(ctx, dep); err != nil {
		r.failf("", "Deployment: %v", err)
		return
	}
	r.logf("created opted-in Deployment %s/%s consuming ConfigMap %s", ns.Name, dep.Name, cm.Name)

	// Baseline: Courier records the hash of the current inputs without rolling.
	err = poll(ctx, env.Timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return false, err
		}
		return dep.Annotations[appliedHashAnnotation] != "", nil
	})
	if err != nil {
		r.failf("is the rollout controller running in the Courier manager?",
			"Courier recorded no baseline (%s) on the opted-in Deployment: %v", appliedHashAnnotation, err)
		return
	}
	before := dep.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]
	if before != "" {
		r.failf("", "the baseline rolled the Deployment (pod-template %s=%q): enabling the feature must not roll", v1alpha1.AnnotationConfigHash, before)
	}
	r.logf("baseline recorded (%s=%s)", appliedHashAnnotation, dep.Annotations[appliedHashAnnotation])

	// Watch the Deployment from here on: every pod-template hash change is counted,
	// even two in quick succession. (Deployment's generation is no measure: it also
	// moves when Courier records its state in metadata annotations.)
	w, err := c.Watch(ctx, &appsv1.DeploymentList{}, client.InNamespace(ns.Name),
		client.MatchingFields{"metadata.name": dep.Name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: dep.ResourceVersion}})
	if err != nil {
		r.failf("", "watching the Deployment: %v", err)
		return
	}
	defer w.Stop()

	cm.Data["greeting"] = "hello again"
	if err := c.Update(ctx, cm); err != nil {
		r.failf("", "updating ConfigMap: %v", err)
		return
	}
	r.logf("changed ConfigMap %s", cm.Name)

	last, changes := before, 0
	deadline := time.After(env.Timeout)
	var settle <-chan time.Time
	for done := false; !done; {
		select {
		case <-ctx.Done():
			r.failf("", "interrupted: %v", ctx.Err())
			return
		case <-deadline:
			if changes == 0 {
				r.failf("check the rollout coalescing window and the manager's logs",
					"pod-template %s did not change within %s after the ConfigMap changed", v1alpha1.AnnotationConfigHash, env.Timeout)
				return
			}
		case <-settle:
			done = true
		case ev, ok := <-w.ResultChan():
			if !ok {
				r.failf("", "the Deployment watch closed early")
				return
			}
			d, isDep := ev.Object.(*appsv1.Deployment)
			if !isDep {
				continue
			}
			if h := d.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]; h != last {
				changes++
				r.logf("rollout %d: pod-template %s=%s", changes, v1alpha1.AnnotationConfigHash, h)
				last = h
				if settle == nil {
					// Exactly once: nothing more may happen while nothing changes.
					settle = time.After(env.Settle)
				}
			}
		}
	}
	if changes != 1 {
		r.failf("", "one ConfigMap change rolled the Deployment %d times within %s, want exactly once", changes, env.Settle)
		return
	}
	r.logf("rolled exactly once; no further rollout within %s", env.Settle)
}
