package bench

import (
	"bytes"
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// benchLabel marks every object the driver creates, with a value naming its role.
const benchLabel = "bench.courier.dev/role"

// payload returns size bytes of data in one key, different for each version, so a
// copy's bytes tell which version it carries. The content is not compressible by
// accident (a simple LCG), like real key material.
func payload(size int, version int) map[string][]byte {
	b := make([]byte, size)
	x := uint32(2166136261 ^ version)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return map[string][]byte{"key": b}
}

// secretDataIs matches Secrets whose data is exactly want.
func secretDataIs(want map[string][]byte) func(client.Object) bool {
	return func(o client.Object) bool {
		s, ok := o.(*corev1.Secret)
		if !ok || len(s.Data) != len(want) {
			return false
		}
		for k, v := range want {
			if !bytes.Equal(s.Data[k], v) {
				return false
			}
		}
		return true
	}
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func secret(ns, name, role string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{benchLabel: role}},
		Type:       corev1.SecretTypeOpaque, Data: data,
	}
}

func configMap(ns, name, role string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{benchLabel: role}},
		Data:       data,
	}
}

// optedInDeployment returns a Deployment that opted in to rollout on change and
// consumes the named ConfigMap (envFrom) and, when secretName is set, a Secret
// (volume). Without kube-controller-manager it never gets pods: the benchmark only
// looks at its pod template and generation.
func optedInDeployment(ns, name, configMapName, secretName string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	one := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			benchLabel: "workload", v1alpha1.LabelRolloutOnChange: "true",
		}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.k8s.io/pause:3.10",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: configMapName},
					}}},
				}}},
			},
		},
	}
	if secretName != "" {
		d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "secret", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: secretName},
		}}}
		d.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "secret", MountPath: "/secret"}}
	}
	return d
}

// createAll creates n objects built by mk with parallelism p.
func createAll(ctx context.Context, c client.Client, n, p int, mk func(i int) client.Object) error {
	return parallel(ctx, n, p, func(ctx context.Context, i int) error {
		o := mk(i)
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, key(o), err)
		}
		return nil
	})
}
