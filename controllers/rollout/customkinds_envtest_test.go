package rollout_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/courier-operator/courier/controllers/rollout"
)

// newCustomWorkload returns an opted-in workload of a custom kind, one replica,
// whose pod template (at templatePath) runs spec; fields are more spec fields.
func newCustomWorkload(gvk schema.GroupVersionKind, ns, name string, templatePath []string, spec corev1.PodSpec,
	annotations map[string]string, fields map[string]any) *unstructured.Unstructured {
	GinkgoHelper()
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"replicas": int64(1),
		"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
	}}}
	for k, v := range fields {
		Expect(unstructured.SetNestedField(u.Object, v, "spec", k)).To(Succeed())
	}
	if templatePath != nil {
		tmpl, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ptr.To(template(name, spec)))
		Expect(err).NotTo(HaveOccurred())
		Expect(unstructured.SetNestedField(u.Object, tmpl, templatePath...)).To(Succeed())
	}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(optInLabels())
	u.SetAnnotations(annotations)
	return u
}

// canary is an Argo Rollouts canary strategy that pauses half-way.
var canary = map[string]any{"canary": map[string]any{"steps": []any{
	map[string]any{"setWeight": int64(50)}, map[string]any{"pause": map[string]any{}},
}}}

var _ = Describe("Argo Rollouts (the project's own CRD)", func() {
	var (
		ns  string
		mgr *runningManager
	)
	eachSpecGets(&ns, &mgr)

	DescribeTable("roll exactly once per change: nothing on opt-in or restart, once for a burst, once for a change made while down",
		func(strategy string, rolls func(templates, restarts *templateCounter) (counted, untouched *templateCounter)) {
			cm := createConfigMap(ns, "cm", map[string]string{"k": "v1"})
			r := newCustomWorkload(rollout.ArgoRollouts.GVK, ns, "canary", []string{"spec", "template"}, podSpec(envFromConfigMap("cm")),
				map[string]string{rollout.AnnotationStrategy: strategy}, map[string]any{"strategy": canary})
			Expect(k8sClient.Create(ctx, r)).To(Succeed())
			counted, untouched := rolls(countChanges(r, "spec", "template"), countChanges(r, "spec", "restartAt"))
			tracked(r)
			rollsExactly(counted, 0)

			setConfigMapData(cm, "k", "v2")
			setConfigMapData(cm, "k", "v3")
			rollsExactly(counted, 1)

			mgr.stop()
			mgr = startManager()
			rollsExactly(counted, 1)

			mgr.stop()
			setConfigMapData(cm, "k", "v4")
			mgr = startManager()
			rollsExactly(counted, 2)
			Expect(untouched.count()).To(BeZero())
		},
		Entry("by template: a new revision, so the canary steps run", "template",
			func(templates, restarts *templateCounter) (*templateCounter, *templateCounter) {
				return templates, restarts
			}),
		Entry("by restart: spec.restartAt replaces the pods, no new revision", "restart",
			func(templates, restarts *templateCounter) (*templateCounter, *templateCounter) {
				return restarts, templates
			}),
	)

	It("leave a Rollout with workloadRef alone and name the Deployment that opts in", func() {
		r := newCustomWorkload(rollout.ArgoRollouts.GVK, ns, "by-ref", nil, corev1.PodSpec{}, nil, map[string]any{
			"strategy":    canary,
			"workloadRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
		})
		Expect(k8sClient.Create(ctx, r)).To(Succeed())
		Eventually(eventNotes(r), eventually).Should(ContainElement(ContainSubstring("RolloutTemplateElsewhere: The pod template is in Deployment/web")))
		Consistently(annotation(r, rollout.AnnotationAppliedHash), settle).Should(BeEmpty())
	})
})

var _ = Describe("a workload kind declared by the cluster admin", func() {
	It("is picked up when its CRD appears, without a restart, and rolls exactly once per change", func() {
		ns := newNamespace()
		podSets, err := rollout.ParseCustomKind("workloads.example.com/v1/PodSet=spec.podTemplate")
		Expect(err).NotTo(HaveOccurred())
		mgr := startManager(func(o *rollout.Options) {
			o.CustomKinds = []rollout.CustomKind{podSets}
			o.KindPollInterval = 200 * time.Millisecond
		})
		DeferCleanup(mgr.stop)
		// Not served yet: the manager runs on (no crash loop).
		Consistently(mgr.done, time.Second).ShouldNot(Receive())

		_, err = envtest.InstallCRDs(restCfg, envtest.CRDInstallOptions{Paths: []string{"testdata/crds"}, ErrorIfPathMissing: true})
		Expect(err).NotTo(HaveOccurred())
		cm := createConfigMap(ns, "cm", map[string]string{"k": "v1"})
		ps := newCustomWorkload(podSets.GVK, ns, "cache", []string{"spec", "podTemplate"}, podSpec(envFromConfigMap("cm")), nil, nil)
		Expect(k8sClient.Create(ctx, ps)).To(Succeed())
		rolls := countChanges(ps, "spec", "podTemplate")
		tracked(ps)
		rollsExactly(rolls, 0)

		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 1)
		Expect(mgr.done).NotTo(Receive())
	})
})
