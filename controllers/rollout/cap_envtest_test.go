package rollout_test

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/controllers/rollout"
)

// A change to a ConfigMap many workloads read rolls them in waves of at most the
// cap. The test plays kube-controller-manager: it marks a rolled Deployment done by
// writing its status, and a watch of its own counts the Deployments rolling at
// every moment.
var _ = Describe("a capped wave of rollouts", func() {
	It("never has more than the cap rolling, rolls each workload once, and keeps the cap across a restart", func() {
		const workloads, limit = 5, 2
		// The cap is cluster-wide: the workloads other specs rolled would hold slots
		// (no kube-controller-manager finishes their rollouts here), so the test
		// finishes them first, as kube-controller-manager would have.
		finishEveryRollout()
		capped := func(o *rollout.Options) { o.MaxConcurrentRollouts = limit }
		mgr := startManager(capped)
		DeferCleanup(func() { mgr.stop() })
		ns := newNamespace()
		cm := createConfigMap(ns, "shared", map[string]string{"k": "v1"})
		var deps []*appsv1.Deployment
		var rolls []*templateCounter
		for i := range workloads {
			d := newDeployment(ns, fmt.Sprintf("web-%d", i), podSpec(envFromConfigMap("shared")))
			rolls = append(rolls, create(d))
			deps = append(deps, d)
		}
		for _, d := range deps {
			tracked(d)
		}
		peak := watchRolling(ns)

		setConfigMapData(cm, "k", "v2")
		rolledOnce := func() int {
			n := 0
			for _, r := range rolls {
				if r.count() == 1 {
					n++
				}
			}
			return n
		}
		Eventually(rolledOnce, eventually).Should(Equal(limit))
		Consistently(rolledOnce, settle).Should(Equal(limit), "the others wait for a slot")

		By("a restart in the middle of the wave")
		mgr.stop()
		mgr = startManager(capped)
		Consistently(rolledOnce, settle).Should(Equal(limit), "a restart counts the rollouts in progress from the workloads")

		for done := 0; done < workloads; {
			for i, d := range deps {
				if rolls[i].count() == 1 && finishRollout(d) {
					done++
				}
			}
			Eventually(rolledOnce, eventually).Should(BeNumerically(">=", min(done+limit, workloads)))
		}
		for i := range rolls {
			rollsExactly(rolls[i], 1)
		}
		Expect(peak()).To(Equal(limit), "at most the cap rolled at once, and the cap was used")
	})
})

// finishRollout writes what the Deployment controller would once d's rollout is
// done (every replica updated and available, the generation observed); false when
// it already was.
func finishRollout(d *appsv1.Deployment) bool {
	GinkgoHelper()
	var cur appsv1.Deployment
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), &cur)).To(Succeed())
	if deploymentDone(&cur) {
		return false
	}
	n := ptr.Deref(cur.Spec.Replicas, 1)
	cur.Status = appsv1.DeploymentStatus{ObservedGeneration: cur.Generation, Replicas: n, UpdatedReplicas: n, AvailableReplicas: n, ReadyReplicas: n}
	Expect(k8sClient.Status().Update(ctx, &cur)).To(Succeed())
	return true
}

// finishEveryRollout writes a done status on every Deployment, StatefulSet and
// DaemonSet of the cluster that Courier rolled.
func finishEveryRollout() {
	GinkgoHelper()
	rolled := func(t *corev1.PodTemplateSpec) bool { return t.Annotations[rollout.AnnotationConfigHash] != "" }
	var deps appsv1.DeploymentList
	Expect(k8sClient.List(ctx, &deps)).To(Succeed())
	for i := range deps.Items {
		if rolled(&deps.Items[i].Spec.Template) {
			finishRollout(&deps.Items[i])
		}
	}
	var sts appsv1.StatefulSetList
	Expect(k8sClient.List(ctx, &sts)).To(Succeed())
	for _, st := range sts.Items {
		if rolled(&st.Spec.Template) {
			n := ptr.Deref(st.Spec.Replicas, 1)
			st.Status = appsv1.StatefulSetStatus{ObservedGeneration: st.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n,
				AvailableReplicas: n, CurrentRevision: "done", UpdateRevision: "done"}
			Expect(k8sClient.Status().Update(ctx, &st)).To(Succeed())
		}
	}
	var dss appsv1.DaemonSetList
	Expect(k8sClient.List(ctx, &dss)).To(Succeed())
	for _, ds := range dss.Items {
		if rolled(&ds.Spec.Template) {
			ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation}
			Expect(k8sClient.Status().Update(ctx, &ds)).To(Succeed())
		}
	}
}

// deploymentDone is the test's own reading of a finished rollout (what
// kube-controller-manager reports), independent of Courier's.
func deploymentDone(d *appsv1.Deployment) bool {
	n := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == n && d.Status.AvailableReplicas == n
}

// watchRolling watches the namespace's Deployments and returns the largest number
// seen at once that rolled (carry Courier's template hash) and are not done.
func watchRolling(ns string) func() int {
	GinkgoHelper()
	wctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	w, err := watchClient.Watch(wctx, &appsv1.DeploymentList{}, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	var mu sync.Mutex
	rolling := map[string]bool{}
	peak := 0
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			mu.Lock()
			rolling[d.Name] = d.Spec.Template.Annotations[rollout.AnnotationConfigHash] != "" && !deploymentDone(d)
			n := 0
			for _, r := range rolling {
				if r {
					n++
				}
			}
			peak = max(peak, n)
			mu.Unlock()
		}
	}()
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
