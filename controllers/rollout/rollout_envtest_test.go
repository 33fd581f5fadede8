package rollout_test

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/pkg/reconciler"
)

const (
	// eventually bounds waits for something that must happen.
	eventually = 20 * time.Second
	// settle is how long a count must stay put to prove nothing more happens: well
	// past the window, so a second rollout would have had time to show up.
	settle = 3 * window
)

// tracked waits until the controller has recorded a hash on the workload.
func tracked(obj client.Object) {
	GinkgoHelper()
	Eventually(annotation(obj, rollout.AnnotationAppliedHash), eventually).ShouldNot(BeEmpty())
}

// create creates a workload and starts counting its template changes.
func create(obj client.Object) *templateCounter {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	return countTemplateChanges(obj)
}

// rollsExactly asserts the workload's template changed exactly n times since it was
// created, and stays so well past the coalescing window.
func rollsExactly(rolls *templateCounter, n int64) {
	GinkgoHelper()
	Eventually(rolls.count, eventually).Should(Equal(n))
	Consistently(rolls.count, settle).Should(Equal(n))
}

var _ = Describe("rollout on change", func() {
	var (
		ns  string
		mgr *runningManager
	)
	eachSpecGets(&ns, &mgr)

	// webOnAppConfig creates ConfigMap app-config and Deployment web reading it (as
	// mutate leaves it), and waits until Courier tracks web.
	webOnAppConfig := func(mutate ...func(*appsv1.Deployment)) (*corev1.ConfigMap, *appsv1.Deployment, *templateCounter) {
		GinkgoHelper()
		cm := createConfigMap(ns, "app-config", map[string]string{"k": "v1"})
		d := newDeployment(ns, "web", podSpec(envFromConfigMap("app-config")))
		for _, m := range mutate {
			m(d)
		}
		rolls := create(d)
		tracked(d)
		return cm, d, rolls
	}

	It("does not roll a workload when it opts in", func() {
		createConfigMap(ns, "app-config", map[string]string{"k": "v1"})
		d := newDeployment(ns, "web", podSpec(envFromConfigMap("app-config")))
		d.Labels = nil // created without the label, opted in later
		rolls := create(d)
		update(d, func(d *appsv1.Deployment) { d.Labels = map[string]string{rollout.LabelOptIn: "true"} })

		tracked(d)
		rollsExactly(rolls, 0)
		Expect(templateHash(d)()).To(BeEmpty())
	})

	It("rolls exactly once when a referenced ConfigMap's data changes", func() {
		cm, d, rolls := webOnAppConfig()

		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 1)
		Expect(templateHash(d)()).To(Equal(annotation(d, rollout.AnnotationAppliedHash)()))
		Expect(annotation(d, rollout.AnnotationPendingHash)()).To(BeEmpty())
		Eventually(eventNotes(d), eventually).Should(ContainElement("RolledOut: configmap/app-config changed"))
	})

	It("rolls nothing when only a label of a referenced ConfigMap changes", func() {
		cm, d, rolls := webOnAppConfig()
		hash := annotation(d, rollout.AnnotationAppliedHash)()

		update(cm, func(c *corev1.ConfigMap) { c.Labels = map[string]string{"touched": "yes"} })
		update(cm, func(c *corev1.ConfigMap) { c.Annotations = map[string]string{"note": "metadata only"} })
		rollsExactly(rolls, 0)
		Expect(annotation(d, rollout.AnnotationAppliedHash)()).To(Equal(hash))
		Expect(annotation(d, rollout.AnnotationPendingHash)()).To(BeEmpty())
	})

	// prepare runs before web exists and returns the changes to make once Courier
	// tracks it; app-config is the ConfigMap web reads.
	DescribeTable("rolls once per window, for what the workload reads only",
		func(prepare func() func(appConfig *corev1.ConfigMap), want int64) {
			change := prepare()
			cm, _, rolls := webOnAppConfig()

			change(cm)
			rollsExactly(rolls, want)
		},
		Entry("once for two changes inside the window", func() func(*corev1.ConfigMap) {
			return func(cm *corev1.ConfigMap) {
				setConfigMapData(cm, "k", "v2")
				setConfigMapData(cm, "k", "v3")
			}
		}, int64(1)),
		Entry("nothing when an object the workload does not reference changes", func() func(*corev1.ConfigMap) {
			other := createConfigMap(ns, "other-config", map[string]string{"k": "v1"})
			otherSecret := createSecret(ns, "other-secret", map[string]string{"k": "v1"})
			return func(*corev1.ConfigMap) {
				setConfigMapData(other, "k", "v2")
				setSecretData(otherSecret, "k", "v2")
			}
		}, int64(0)),
	)

	It("rolls nothing when an excluded reference changes", func() {
		noisy := createConfigMap(ns, "noisy", map[string]string{"k": "v1"})
		_, _, rolls := webOnAppConfig(func(d *appsv1.Deployment) {
			envFromConfigMap("noisy")(&d.Spec.Template.Spec)
			d.Annotations = map[string]string{rollout.AnnotationExcludeRefs: "configmap/noisy"}
		})

		setConfigMapData(noisy, "k", "v2")
		rollsExactly(rolls, 0)
	})

	DescribeTable("follows every kind of reference",
		func(mutate func(*corev1.PodSpec), annotations map[string]string, change func(ns string)) {
			createConfigMap(ns, "cm", map[string]string{"k": "v1"})
			createSecret(ns, "sec", map[string]string{"k": "v1"})
			d := newDeployment(ns, "web", podSpec(mutate))
			d.Annotations = annotations
			rolls := create(d)
			tracked(d)

			change(ns)
			rollsExactly(rolls, 1)
		},
		Entry("env configMapKeyRef", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}}}
		}, nil, changeConfigMap),
		Entry("env secretKeyRef", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "k"}}}}
		}, nil, changeSecret),
		Entry("envFrom configMapRef", envFromConfigMap("cm"), nil, changeConfigMap),
		Entry("envFrom secretRef", func(s *corev1.PodSpec) {
			s.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}}}
		}, nil, changeSecret),
		Entry("configMap volume", func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}}}
		}, nil, changeConfigMap),
		Entry("secret volume", func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}}}
		}, nil, changeSecret),
		Entry("projected volume", func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "unrelated-optional"}, Optional: ptr.To(true)}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
			}}}}}
		}, nil, changeSecret),
		Entry("init container env", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init", Image: "example.invalid/init:1", Env: []corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}}}}}
		}, nil, changeConfigMap),
		Entry("sidecar (restartable init container) envFrom", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "sidecar", Image: "example.invalid/sidecar:1", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}}}}}
		}, nil, changeSecret),
		Entry("extra-refs annotation", nil, map[string]string{rollout.AnnotationExtraRefs: "secret/sec"}, changeSecret),
	)

	DescribeTable("rolls every workload kind",
		func(newWorkload func(ns string) client.Object) {
			cm := createConfigMap(ns, "cm", map[string]string{"k": "v1"})
			w := newWorkload(ns)
			rolls := create(w)
			tracked(w)
			rollsExactly(rolls, 0)

			setConfigMapData(cm, "k", "v2")
			rollsExactly(rolls, 1)
		},
		Entry("StatefulSet", func(ns string) client.Object {
			return newWorkload[appsv1.StatefulSet](ns, "db", podSpec(envFromConfigMap("cm")))
		}),
		Entry("DaemonSet", func(ns string) client.Object {
			return newWorkload[appsv1.DaemonSet](ns, "agent", podSpec(envFromConfigMap("cm")))
		}),
		Entry("CronJob (its Job template)", func(ns string) client.Object {
			return newWorkload[batchv1.CronJob](ns, "report", podSpec(envFromConfigMap("cm")))
		}),
	)

	It("holds changes while paused and rolls once when unpaused", func() {
		cm, d, rolls := webOnAppConfig(func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{rollout.AnnotationPaused: "true"}
		})

		setConfigMapData(cm, "k", "v2")
		setConfigMapData(cm, "k", "v3")
		Eventually(annotation(d, rollout.AnnotationPendingHash), eventually).ShouldNot(BeEmpty())
		rollsExactly(rolls, 0)

		update(d, func(d *appsv1.Deployment) { delete(d.Annotations, rollout.AnnotationPaused) })
		rollsExactly(rolls, 1)
	})

	It("rolls nothing when the manager restarts with unchanged inputs", func() {
		cm, _, rolls := webOnAppConfig()
		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 1)

		mgr.stop()
		mgr = startManager()
		rollsExactly(rolls, 1)
	})

	It("rolls exactly once for a change made while the manager was stopped", func() {
		cm, _, rolls := webOnAppConfig()

		mgr.stop()
		setConfigMapData(cm, "k", "v2")
		setConfigMapData(cm, "k", "v3")
		Consistently(rolls.count, window).Should(BeZero())
		mgr = startManager()
		rollsExactly(rolls, 1)
	})

	It("rolls exactly once when the manager restarts inside the window", func() {
		cm, d, rolls := webOnAppConfig()

		setConfigMapData(cm, "k", "v2")
		Eventually(annotation(d, rollout.AnnotationPendingHash), eventually).ShouldNot(BeEmpty())
		// Stop while the change is pending (the window is far longer than a stop): the
		// pending change and its timestamps are on the workload, not in memory.
		mgr.stop()
		mgr = startManager()
		rollsExactly(rolls, 1)
	})

	It("preserves another field manager's edits to the same workload", func() {
		cm, d, rolls := webOnAppConfig()

		// Another tool (a CD tool taking over the object the spec created) owns a
		// template label, a template annotation and the replicas.
		// A fresh object per apply: Apply fills its argument with the server's answer.
		other := func() *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "web", "namespace": ns},
				"spec": map[string]any{
					"replicas": int64(3),
					"template": map[string]any{"metadata": map[string]any{
						"labels":      map[string]any{"team": "payments"},
						"annotations": map[string]any{"team.example/owner": "alice"},
					}},
				},
			}}
		}
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(other()), client.FieldOwner("team-tool"), client.ForceOwnership)).To(Succeed())
		Eventually(rolls.count, eventually).Should(Equal(int64(1))) // the other tool's own template change

		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 2)

		var got appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), &got)).To(Succeed())
		Expect(*got.Spec.Replicas).To(Equal(int32(3)))
		Expect(got.Spec.Template.Labels).To(HaveKeyWithValue("team", "payments"))
		Expect(got.Spec.Template.Annotations).To(HaveKeyWithValue("team.example/owner", "alice"))
		Expect(got.Spec.Template.Annotations).To(HaveKey(rollout.AnnotationConfigHash))
		managers := map[string]bool{}
		for _, mf := range got.ManagedFields {
			managers[mf.Manager] = true
		}
		Expect(managers).To(HaveKey("team-tool"))
		Expect(managers).To(HaveKey(rollout.FieldManager))

		// The other tool re-applies its manifest, which does not mention our
		// annotation (as Argo CD or Flux do, with server-side apply): it keeps it, so
		// nothing rolls back, and Courier has nothing to write back either.
		writes := countManagerWrites(d)
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(other()), client.FieldOwner("team-tool"), client.ForceOwnership)).To(Succeed())
		Consistently(templateHash(d), settle).ShouldNot(BeEmpty())
		Expect(rolls.count()).To(Equal(int64(2)))
		Expect(writes.count()).To(BeZero(), "Courier wrote after the other tool's re-apply")
	})

	It("stops and leaves the workload as it is when the opt-in label is removed", func() {
		cm, d, rolls := webOnAppConfig()
		hash := annotation(d, rollout.AnnotationAppliedHash)()

		update(d, func(d *appsv1.Deployment) { delete(d.Labels, rollout.LabelOptIn) })
		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 0)
		Expect(annotation(d, rollout.AnnotationAppliedHash)()).To(Equal(hash))
	})

	It("reports a missing required input without failing and rolls once it appears", func() {
		d := newDeployment(ns, "web", podSpec(envFromConfigMap("late")))
		rolls := create(d)
		tracked(d)
		Eventually(eventNotes(d), eventually).Should(ContainElement(ContainSubstring("MissingInput: Required input(s) not found: configmap/late")))

		createConfigMap(ns, "late", map[string]string{"k": "v1"})
		rollsExactly(rolls, 1)
	})
})

// A workload with a thousand bad references still gets its warnings: every event
// note is bounded (the API server rejects notes over 1,024 bytes, and the event
// would be lost), naming the first entries and how many more there are.
var _ = Describe("rollout warnings survive their own size", func() {
	It("reports 1,000 missing inputs and 300 invalid annotation entries in bounded events", func() {
		mgr := startManager()
		DeferCleanup(func() { mgr.stop() })
		ns := newNamespace()
		d := newDeployment(ns, "noisy", podSpec(func(p *corev1.PodSpec) {
			for i := range 1000 {
				p.Containers[0].Env = append(p.Containers[0].Env, corev1.EnvVar{Name: fmt.Sprintf("V%d", i), ValueFrom: &corev1.EnvVarSource{
					ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: fmt.Sprintf("missing-%04d", i)}, Key: "k"}}})
			}
		}))
		invalid := make([]string, 300)
		for i := range invalid {
			invalid[i] = fmt.Sprintf("nokind-%d", i)
		}
		d.Annotations = map[string]string{rollout.AnnotationExtraRefs: strings.Join(invalid, ",")}
		create(d)
		bounded := func(prefix string) types.GomegaMatcher {
			return ContainElement(And(HavePrefix(prefix), WithTransform(func(s string) int { return len(s) }, BeNumerically("<=", 1024+len(prefix))),
				MatchRegexp(` and \d+ more`)))
		}
		Eventually(eventNotes(d), eventually).Should(And(
			bounded("MissingInput: Required input(s) not found: configmap/missing-0000, configmap/missing-0001"),
			bounded("InvalidAnnotation: Ignoring 257 invalid entries: extra references: "),
		))
	})
})

// A tool that replaces the whole workload (dropping the rollout state Courier
// stores on it) ten times a second would make Courier store it again ten times a
// second. Courier notices the fight and backs off, and stores the state again
// within seconds once the tool stops.
var _ = Describe("a writer that keeps removing the rollout state", func() {
	It("costs a bounded number of writes, is reported, and the state comes back once it stops", func() {
		mgr := startManager()
		DeferCleanup(func() { mgr.stop() })
		ns := newNamespace()
		createConfigMap(ns, "cm", map[string]string{"k": "v1"})
		d := newDeployment(ns, "replaced", podSpec(envFromConfigMap("cm")))
		create(d)
		tracked(d)
		writes := countManagerWrites(d)

		const seconds = 10
		var removals int64
		for deadline, tick := time.Now().Add(seconds*time.Second), time.NewTicker(100*time.Millisecond); time.Now().Before(deadline); <-tick.C {
			var cur appsv1.Deployment
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), &cur)).To(Succeed())
			if cur.Annotations[rollout.AnnotationAppliedHash] == "" {
				continue
			}
			for k := range cur.Annotations {
				if strings.HasPrefix(k, "courier.dev/") {
					delete(cur.Annotations, k)
				}
			}
			cur.Labels["replaced"] = fmt.Sprint(removals) // what such a tool stamps
			if err := k8sClient.Update(ctx, &cur, client.FieldOwner("replacer")); err == nil {
				removals++
			}
		}
		stopped := time.Now()
		Eventually(annotation(d, rollout.AnnotationAppliedHash), reconciler.ContestQuiet+5*time.Second).ShouldNot(BeEmpty())
		GinkgoWriter.Printf("state removed %d times in %ds; Courier stored it %d times; back %s after the writer stopped\n",
			removals, seconds, writes.count(), time.Since(stopped).Round(10*time.Millisecond))
		budget := int64(reconciler.ContestThreshold + bits.Len(uint(seconds)) + 2)
		Expect(writes.count()).To(BeNumerically("<=", budget))
		// Events are sent asynchronously; the fight's is sent once, when it starts.
		Eventually(eventNotes(d)).Should(ContainElement(And(HavePrefix("RolloutStateContested:"), ContainSubstring("replacer (Update)"))))
	})
})

func changeConfigMap(ns string) {
	setConfigMapData(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm"}}, "k", "v2")
}

func changeSecret(ns string) {
	setSecretData(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sec"}}, "k", "v2")
}
