package rollout_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/controllers/rollout"
)

var ctx = context.Background()

// newNamespace creates a namespace of its own for one spec.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rollout-%08x", rand.Uint32())}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

func createConfigMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	Expect(k8sClient.Create(ctx, cm)).To(Succeed())
	return cm
}

func createSecret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	return s
}

// update re-reads obj, applies mutate and writes it back, retrying on conflicts.
func update[T client.Object](obj T, mutate func(T)) {
	Eventually(func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return k8sClient.Update(ctx, obj)
	}).Should(Succeed())
}

// setConfigMapData changes one key of a ConfigMap.
func setConfigMapData(cm *corev1.ConfigMap, key, value string) {
	update(cm, func(c *corev1.ConfigMap) {
		if c.Data == nil {
			c.Data = map[string]string{}
		}
		c.Data[key] = value
	})
}

// setSecretData changes one key of a Secret.
func setSecretData(s *corev1.Secret, key, value string) {
	update(s, func(c *corev1.Secret) {
		if c.Data == nil {
			c.Data = map[string][]byte{}
		}
		c.Data[key] = []byte(value)
	})
}

// podSpec is a minimal pod spec; mutate adds the references under test.
func podSpec(mutate func(*corev1.PodSpec)) corev1.PodSpec {
	s := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app:1"}}}
	if mutate != nil {
		mutate(&s)
	}
	return s
}

func template(name string, spec corev1.PodSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}, Spec: spec}
}

func optInLabels() map[string]string { return map[string]string{rollout.LabelOptIn: "true"} }

// newWorkload returns an opted-in workload (a Deployment, StatefulSet or DaemonSet,
// one replica, or a CronJob scheduled daily) whose pods run spec and are labelled
// app=<name>.
func newWorkload[O any, T interface {
	*O
	client.Object
}](ns, name string, spec corev1.PodSpec) T {
	obj := T(new(O))
	obj.SetNamespace(ns)
	obj.SetName(name)
	obj.SetLabels(optInLabels())
	selector, tmpl := &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, template(name, spec)
	switch w := any(obj).(type) {
	case *batchv1.CronJob:
		w.Spec.Schedule = "0 3 * * *"
		w.Spec.JobTemplate.Spec.Template = tmpl
		w.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	case *appsv1.Deployment:
		w.Spec.Replicas = ptr.To[int32](1)
		w.Spec.Selector, w.Spec.Template = selector, tmpl
	case *appsv1.StatefulSet:
		w.Spec.Selector, w.Spec.Template = selector, tmpl
	case *appsv1.DaemonSet:
		w.Spec.Selector, w.Spec.Template = selector, tmpl
	}
	return obj
}

func newDeployment(ns, name string, spec corev1.PodSpec) *appsv1.Deployment {
	return newWorkload[appsv1.Deployment](ns, name, spec)
}

// envFromConfigMap references a ConfigMap with envFrom.
func envFromConfigMap(name string) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		s.Containers[0].EnvFrom = append(s.Containers[0].EnvFrom, corev1.EnvFromSource{
			ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}})
	}
}

// annotation returns a poller of one metadata annotation of the workload.
func annotation(obj client.Object, key string) func() string {
	fresh := obj.DeepCopyObject().(client.Object)
	return func() string {
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), fresh)).To(Succeed())
		return fresh.GetAnnotations()[key]
	}
}

// templateHash returns a poller of the pod template's config-hash annotation.
func templateHash(d *appsv1.Deployment) func() string {
	return func() string {
		var fresh appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), &fresh)).To(Succeed())
		return fresh.Spec.Template.Annotations[rollout.AnnotationConfigHash]
	}
}

// eventNotes returns a poller of "Reason: note" of the events regarding obj.
func eventNotes(obj client.Object) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Regarding.UID == obj.GetUID() {
				out = append(out, e.Reason+": "+e.Note)
			}
		}
		return out
	}
}

// eachSpecGets gives every spec of the container that calls it a namespace of its
// own and a running manager, stopped after the spec; a spec that restarts the
// manager stores the new one in *mgr.
func eachSpecGets(ns *string, mgr **runningManager) {
	BeforeEach(func() {
		*ns = newNamespace()
		*mgr = startManager()
		DeferCleanup(func() { (*mgr).stop() })
	})
}
