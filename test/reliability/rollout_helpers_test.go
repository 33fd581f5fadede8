package reliability

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Annotations of rollout on change (controllers/rollout/names.go), spelled out here
// so this suite tests the public contract rather than importing it.
const (
	annAppliedHash = "courier.dev/applied-config-hash"
)

var rolloutProbe struct {
	once   sync.Once
	active bool
}

// requireRollout skips the calling spec when the rollout controller does not run in
// the manager: it probes once with an opted-in Deployment and waits for the
// baseline Courier records on every workload it handles.
func requireRollout(ctx context.Context) {
	rolloutProbe.once.Do(func() {
		ns := mkNamespace(ctx, uniq("rollout-probe"), nil)
		mkConfigMap(ctx, ns, "input")
		d := mkDeployment(ctx, ns, "probe", "input")
		rolloutProbe.active = pollUntil(20*time.Second, 250*time.Millisecond, func() bool {
			var cur appsv1.Deployment
			return admin.Get(ctx, keyOf(ns, d.Name), &cur) == nil && cur.Annotations[annAppliedHash] != ""
		})
	})
	if !rolloutProbe.active {
		Fail("rollout on change is not running in the manager (the probe Deployment got no baseline in 20 s): " +
			"the rollout invariants of this spec cannot be proven")
	}
}

// mkDeployment creates an opted-in Deployment consuming ConfigMap cm through envFrom.
func mkDeployment(ctx context.Context, ns, name, cm string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{v1alpha1.LabelRolloutOnChange: "true"}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/app:1",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}},
				}}},
			},
		},
	}
	Expect(admin.Create(ctx, d)).To(Succeed())
	return d
}

// template reads a Deployment's pod template: a rollout is a change of it.
func template(ctx context.Context, ns, name string) corev1.PodTemplateSpec {
	return deployment(ctx, ns, name).Spec.Template
}

// deployment reads a Deployment.
func deployment(ctx context.Context, ns, name string) *appsv1.Deployment {
	var d appsv1.Deployment
	Expect(admin.Get(ctx, keyOf(ns, name), &d)).To(Succeed())
	return &d
}

// bumpConfigMap changes the content of a ConfigMap.
func bumpConfigMap(ctx context.Context, ns, name string) {
	var c corev1.ConfigMap
	Expect(admin.Get(ctx, keyOf(ns, name), &c)).To(Succeed())
	c.Data["config.yaml"] = "a: " + randomHex(4) + "\n"
	Expect(admin.Update(ctx, &c)).To(Succeed())
}

// history records every version of a Deployment's generation and Courier
// annotations seen by a watch, for the failure message of a double rollout.
type history struct {
	mu     sync.Mutex
	lines  []string
	hashes []string // the pod template's config hash, each time it changed
	stop   func()
}

// rollouts counts the changes of the pod template's config hash seen so far (the
// generation is no rollout counter: a Deployment's generation also moves with its
// metadata annotations, where Courier keeps its state).
func (h *history) rollouts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return max(0, len(h.hashes)-1)
}

// watchDeployment starts recording the history of ns/name.
func watchDeployment(ctx context.Context, ns, name string) *history {
	h := &history{}
	w, err := kube.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	Expect(err).NotTo(HaveOccurred())
	h.stop = w.Stop
	go func() {
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok {
				continue
			}
			var fm []string
			for _, f := range d.ManagedFields {
				fm = append(fm, f.Manager+"/"+string(f.Operation))
			}
			h.mu.Lock()
			if hash := d.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]; len(h.hashes) == 0 || h.hashes[len(h.hashes)-1] != hash {
				h.hashes = append(h.hashes, hash)
			}
			h.lines = append(h.lines, fmt.Sprintf("%s gen=%d template=%v meta=%v managers=%v", ev.Type, d.Generation,
				courierKeys(d.Spec.Template.Annotations), courierKeys(d.Annotations), fm))
			h.mu.Unlock()
		}
	}()
	return h
}

func (h *history) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return "\n  " + strings.Join(h.lines, "\n  ")
}

func courierKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, "courier.dev/") {
			out[k] = v
		}
	}
	return out
}
