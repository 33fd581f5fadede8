package rollout_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/controllers/rollout"
)

// A CronJob that rolls runs its next scheduled Job with the new configuration; with
// courier.dev/rollout-run-now it also starts one Job now, exactly once per change
// whatever restarts and replicas do.
var _ = Describe("rollout of a CronJob that runs now", func() {
	var (
		ns  string
		mgr *runningManager
	)
	eachSpecGets(&ns, &mgr)

	// reportOnCM creates ConfigMap cm and CronJob report reading it, with run-now,
	// and waits until Courier tracks the CronJob.
	reportOnCM := func() (*corev1.ConfigMap, *batchv1.CronJob, *templateCounter) {
		GinkgoHelper()
		cm := createConfigMap(ns, "cm", map[string]string{"k": "v1"})
		cj := newWorkload[batchv1.CronJob](ns, "report", podSpec(envFromConfigMap("cm")))
		cj.Annotations = map[string]string{rollout.AnnotationRunNow: "true"}
		rolls := create(cj)
		tracked(cj)
		return cm, cj, rolls
	}

	// jobs returns a poller of the Jobs in the namespace: name and the config hash
	// their pods carry.
	jobs := func() func() map[string]string {
		return func() map[string]string {
			var list batchv1.JobList
			Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			out := map[string]string{}
			for _, j := range list.Items {
				out[j.Name] = j.Spec.Template.Annotations[rollout.AnnotationConfigHash]
			}
			return out
		}
	}

	It("starts one Job per change, none on opt-in, none again on a restart, one with two replicas", func() {
		cm, cj, rolls := reportOnCM()
		Consistently(jobs(), settle).Should(BeEmpty(), "opting in starts no Job")

		// A second replica without leader election: both see the change.
		second := startManager()
		DeferCleanup(func() { second.stop() })
		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 1)
		hash := cronJobTemplateHash(cj)
		Eventually(jobs(), eventually).Should(HaveLen(1))
		Consistently(jobs(), settle).Should(And(HaveLen(1), ContainElement(hash)))
		Eventually(annotation(cj, rollout.AnnotationJobDue), eventually).Should(BeEmpty())

		var list batchv1.JobList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		job := list.Items[0]
		Expect(job.OwnerReferences).To(ConsistOf(HaveField("UID", cj.UID)))
		Expect(*job.OwnerReferences[0].Controller).To(BeTrue())
		Expect(job.Annotations).To(HaveKeyWithValue("cronjob.kubernetes.io/instantiate", "manual"))
		Eventually(eventNotes(cj), eventually).Should(ContainElement("RolloutJobStarted: Started Job " + job.Name + " with the new configuration"))

		second.stop()
		mgr.stop()
		mgr = startManager()
		Consistently(jobs(), settle).Should(HaveLen(1), "a restart starts no Job")

		setConfigMapData(cm, "k", "v3")
		rollsExactly(rolls, 2)
		Eventually(jobs(), eventually).Should(HaveLen(2))
		Consistently(jobs(), settle).Should(And(HaveLen(2), ContainElement(cronJobTemplateHash(cj))))
	})

	It("starts a Job that was due when the manager stopped, once it is back", func() {
		_, cj, rolls := reportOnCM()
		mgr.stop()
		// As a rollout leaves it when the manager dies right after it: the Job is
		// recorded as due, not yet created (Courier's own apply: its state
		// annotations and the due Job).
		var cur batchv1.CronJob
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cj), &cur)).To(Succeed())
		state := map[string]any{rollout.AnnotationJobDue: "report-due"}
		for k, v := range cur.Annotations {
			if k != rollout.AnnotationRunNow {
				state[k] = v
			}
		}
		u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"annotations": state}}}
		u.SetGroupVersionKind(batchv1.SchemeGroupVersion.WithKind("CronJob"))
		u.SetNamespace(ns)
		u.SetName(cj.Name)
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(rollout.FieldManager), client.ForceOwnership)).To(Succeed())
		mgr = startManager()
		Eventually(jobs(), eventually).Should(HaveKey("report-due"))
		Eventually(annotation(cj, rollout.AnnotationJobDue), eventually).Should(BeEmpty())
		Consistently(jobs(), settle).Should(HaveLen(1))
		rollsExactly(rolls, 0)
	})

	It("starts no Job without the annotation, and the next scheduled Job has the new template", func() {
		cm, cj, rolls := reportOnCM()
		update(cj, func(c *batchv1.CronJob) { delete(c.Annotations, rollout.AnnotationRunNow) })
		setConfigMapData(cm, "k", "v2")
		rollsExactly(rolls, 1)
		Expect(cronJobTemplateHash(cj)).NotTo(BeEmpty())
		Consistently(jobs(), settle).Should(BeEmpty())
	})
})

// cronJobTemplateHash returns the config hash of a CronJob's Job template as stored.
func cronJobTemplateHash(cj *batchv1.CronJob) string {
	GinkgoHelper()
	var fresh batchv1.CronJob
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cj), &fresh)).To(Succeed())
	return fresh.Spec.JobTemplate.Spec.Template.Annotations[rollout.AnnotationConfigHash]
}
