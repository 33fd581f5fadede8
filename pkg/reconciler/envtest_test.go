package reconciler_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

var nsCounter atomic.Int32

// freshNamespaces creates n namespaces with unique names.
func freshNamespaces(ctx context.Context, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("rt-%d", nsCounter.Add(1))
		Expect(k8s.Create(ctx, namespace(name))).To(Succeed())
		out = append(out, name)
	}
	return out
}

// direct builds a reconciler over a counting, uncached client against the envtest API server.
func direct(b *reconciler.Builder[*Widget]) (reconcile.TypedReconciler[reconcile.Request], *rt.Counter, *rt.Recorder) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: newScheme()})
	Expect(err).NotTo(HaveOccurred())
	counting, counter := rt.Counting(c)
	rec := &rt.Recorder{}
	r, err := b.BuildWith(reconciler.Deps{Client: counting, Reader: counting, Recorder: rec})
	Expect(err).NotTo(HaveOccurred())
	return r, counter, rec
}

func reconcileOnce(ctx context.Context, r reconcile.TypedReconciler[reconcile.Request], name string) {
	GinkgoHelper()
	res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	Expect(err).NotTo(HaveOccurred())
	Expect(res.RequeueAfter).To(BeZero())
}

func createWidget(ctx context.Context, name string, data map[string]string, nss ...string) *Widget {
	w := widget(name, data, nss...)
	w.Generation = 0
	Expect(k8s.Create(ctx, w)).To(Succeed())
	return w
}

func getCMIn(ctx context.Context, ns, name string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{}
	Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cm)).To(Succeed())
	return cm
}

// defaultsController keeps a Deployment and a Service per namespace: kinds whose
// live objects are full of server-side defaults.
func defaultsController() *reconciler.Builder[*Widget] {
	labels := func(w *Widget) map[string]string { return map[string]string{widgetLabel: w.Name} }
	deployments := reconciler.ChildSet[*Widget, *appsv1.Deployment]{
		Name: "deployments", FieldOwner: "courier", Labels: labels,
		NewList: func() client.ObjectList { return &appsv1.DeploymentList{} },
		Desired: perNamespace(func(w *Widget, ns string) *appsv1.Deployment {
			sel := map[string]string{"app": "web-" + w.Name}
			return &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
				Spec: appsv1.DeploymentSpec{
					Selector: &metav1.LabelSelector{MatchLabels: sel},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: sel},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{
							Name: "web", Image: "nginx:" + w.Spec.Data["tag"],
							Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
							Env:   envFrom(w.Spec.Data),
						}}},
					},
				},
			}
		}),
	}
	services := reconciler.ChildSet[*Widget, *corev1.Service]{
		Name: "services", FieldOwner: "courier", Labels: labels,
		NewList: func() client.ObjectList { return &corev1.ServiceList{} },
		Desired: perNamespace(func(w *Widget, ns string) *corev1.Service {
			return &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
				Spec: corev1.ServiceSpec{
					Selector: map[string]string{"app": "web-" + w.Name},
					Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
				},
			}
		}),
	}
	return reconciler.For("defaults", func() *Widget { return &Widget{} }).Steps(deployments.Step(), services.Step())
}

func envFrom(data map[string]string) []corev1.EnvVar {
	if data["env"] == "" {
		return nil
	}
	return []corev1.EnvVar{{Name: "EXTRA", Value: data["env"]}}
}

var _ = Describe("ChildSet against a real API server", func() {
	ctx := context.Background()

	It("creates children with server-side apply, then makes zero writes", func() {
		nss := freshNamespaces(ctx, 3)
		createWidget(ctx, "ssa", map[string]string{"color": "blue", "size": "m"}, nss...)
		r, counter, rec := direct(widgetController())

		reconcileOnce(ctx, r, "ssa")
		Expect(counter.Calls().WritesOnly()).To(Equal(rt.Calls{Patch: 1, Apply: 3, StatusPatch: 1}))
		for _, ns := range nss {
			cm := getCMIn(ctx, ns, "widget-ssa")
			Expect(cm.Data).To(Equal(map[string]string{"color": "blue", "size": "m"}))
			Expect(cm.Labels).To(HaveKeyWithValue(widgetLabel, "ssa"))
			Expect(cm.ManagedFields).To(ContainElement(And(
				HaveField("Manager", "courier"), HaveField("Operation", metav1.ManagedFieldsOperationApply))))
		}
		w := &Widget{}
		Expect(k8s.Get(ctx, types.NamespacedName{Name: "ssa"}, w)).To(Succeed())
		Expect(meta.IsStatusConditionTrue(w.Status.Conditions, reconciler.ConditionReady)).To(BeTrue())
		Expect(w.Status.ObservedGeneration).To(Equal(w.Generation))
		Expect(w.Status.Synced).To(Equal(3))
		Expect(w.Finalizers).To(ConsistOf("test.courier.dev/cleanup"))

		counter.Reset()
		rec.Reset()
		for i := 0; i < 3; i++ {
			reconcileOnce(ctx, r, "ssa")
		}
		Expect(counter.Calls().Writes()).To(BeZero(), counter.Calls().String())
		Expect(rec.Events()).To(BeEmpty())
	})

	It("does not update children because of server-defaulted fields", func() {
		nss := freshNamespaces(ctx, 2)
		createWidget(ctx, "defaults", map[string]string{"tag": "1.27"}, nss...)
		r, counter, _ := direct(defaultsController())
		reconcileOnce(ctx, r, "defaults")
		Expect(counter.Calls().Apply).To(Equal(4))

		d := &appsv1.Deployment{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: nss[0], Name: "web"}, d)).To(Succeed())
		Expect(d.Spec.Replicas).NotTo(BeNil()) // defaulted by the server
		Expect(d.Spec.Template.Spec.Containers[0].TerminationMessagePath).NotTo(BeEmpty())
		svc := &corev1.Service{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: nss[0], Name: "web"}, svc)).To(Succeed())
		Expect(svc.Spec.ClusterIP).NotTo(BeEmpty())
		Expect(svc.Spec.Ports[0].Protocol).To(Equal(corev1.ProtocolTCP))

		counter.Reset()
		for i := 0; i < 3; i++ {
			reconcileOnce(ctx, r, "defaults")
		}
		Expect(counter.Calls().Writes()).To(BeZero(), counter.Calls().String())

		// A change to one field updates exactly the changed children, once.
		setWidgetData(ctx, "defaults", map[string]string{"tag": "1.28", "env": "x"})
		counter.Reset()
		reconcileOnce(ctx, r, "defaults")
		Expect(counter.Calls().WritesOnly()).To(Equal(rt.Calls{Apply: 2, StatusPatch: 1}))
		// Removing the env var we applied before removes it from the live object.
		setWidgetData(ctx, "defaults", map[string]string{"tag": "1.28"})
		counter.Reset()
		reconcileOnce(ctx, r, "defaults")
		Expect(counter.Calls().WritesOnly()).To(Equal(rt.Calls{Apply: 2, StatusPatch: 1}))
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: nss[1], Name: "web"}, d)).To(Succeed())
		Expect(d.Spec.Template.Spec.Containers[0].Env).To(BeEmpty())
		Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("nginx:1.28"))
		counter.Reset()
		reconcileOnce(ctx, r, "defaults")
		Expect(counter.Calls().Writes()).To(BeZero(), counter.Calls().String())
	})

	It("repairs a hand-edited child and removes a key no longer desired", func() {
		nss := freshNamespaces(ctx, 2)
		createWidget(ctx, "edited", map[string]string{"color": "blue", "size": "m"}, nss...)
		r, counter, _ := direct(widgetController())
		reconcileOnce(ctx, r, "edited")

		// kubectl edit: another field manager changes our value.
		cm := getCMIn(ctx, nss[0], "widget-edited")
		cm.Data["color"] = "red"
		Expect(k8s.Update(ctx, cm, client.FieldOwner("kubectl-edit"))).To(Succeed())
		counter.Reset()
		reconcileOnce(ctx, r, "edited")
		Expect(counter.Calls().WritesOnly()).To(Equal(rt.Calls{Apply: 1}))
		Expect(getCMIn(ctx, nss[0], "widget-edited").Data).To(HaveKeyWithValue("color", "blue"))

		// Deleting a child by hand: it is recreated.
		Expect(k8s.Delete(ctx, getCMIn(ctx, nss[1], "widget-edited"))).To(Succeed())
		counter.Reset()
		reconcileOnce(ctx, r, "edited")
		Expect(counter.Calls().WritesOnly()).To(Equal(rt.Calls{Apply: 1}))

		// A key dropped from the desired state is removed (managedFields tell us we set it).
		setWidgetData(ctx, "edited", map[string]string{"color": "blue"})
		counter.Reset()
		reconcileOnce(ctx, r, "edited")
		Expect(counter.Calls().WritesOnly()).To(Equal(rt.Calls{Apply: 2, StatusPatch: 1}))
		for _, ns := range nss {
			Expect(getCMIn(ctx, ns, "widget-edited").Data).To(Equal(map[string]string{"color": "blue"}))
		}
		counter.Reset()
		reconcileOnce(ctx, r, "edited")
		Expect(counter.Calls().Writes()).To(BeZero())
	})

	It("honours the conflict policy with real field managers", func() {
		nss := freshNamespaces(ctx, 3)
		for _, ns := range nss {
			Expect(k8s.Create(ctx, unmanagedCMNamed(ns, "widget-conflicts", "theirs"), client.FieldOwner("someone"))).To(Succeed())
		}
		createWidget(ctx, "conflicts", map[string]string{"color": "blue"}, nss...)
		policy := map[string]reconciler.ConflictAction{nss[0]: reconciler.ConflictSkip, nss[1]: reconciler.ConflictAdopt, nss[2]: reconciler.ConflictOverwrite}
		cs := configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
			cs.OnConflict = func(ctx context.Context, s *reconciler.State[*Widget], desired, live *corev1.ConfigMap) (reconciler.ConflictAction, string) {
				return policy[live.Namespace], ""
			}
		})
		var report reconciler.ChildReport
		r, counter, _ := direct(controllerWithReport(cs, &report)())
		reconcileOnce(ctx, r, "conflicts")
		Expect(counter.Calls().Apply).To(Equal(2)) // adopt (fails on the field conflict) + overwrite
		Expect(report.Outcomes).To(HaveLen(3))
		byNS := map[string]reconciler.ChildOutcome{}
		for _, o := range report.Outcomes {
			byNS[o.Key.Namespace] = o
		}
		Expect(byNS[nss[0]]).To(And(HaveField("Action", reconciler.ChildConflict), HaveField("Reason", reconciler.ReasonUnmanaged)))
		Expect(byNS[nss[1]]).To(And(HaveField("Action", reconciler.ChildConflict), HaveField("Reason", reconciler.ReasonFieldConflict)))
		Expect(byNS[nss[2]]).To(HaveField("Action", reconciler.ChildUpdated))
		Expect(getCMIn(ctx, nss[0], "widget-conflicts").Data["color"]).To(Equal("theirs"))
		Expect(getCMIn(ctx, nss[1], "widget-conflicts").Data["color"]).To(Equal("theirs"))
		over := getCMIn(ctx, nss[2], "widget-conflicts")
		Expect(over.Data["color"]).To(Equal("blue"))
		Expect(over.Labels).To(HaveKeyWithValue(widgetLabel, "conflicts"))
		w := &Widget{}
		Expect(k8s.Get(ctx, types.NamespacedName{Name: "conflicts"}, w)).To(Succeed())
		Expect(meta.FindStatusCondition(w.Status.Conditions, "Ready").Reason).To(Equal(reconciler.ReasonChildConflict))
	})

	It("runs under a manager: watches repair drift, steady state is quiet, deletion cleans up", func() {
		var counter *rt.Counter
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:                 newScheme(),
			Metrics:                metricsserver.Options{BindAddress: "0"},
			HealthProbeBindAddress: "0",
			NewClient: func(config *rest.Config, options client.Options) (client.Client, error) {
				c, err := client.NewWithWatch(config, options)
				if err != nil {
					return nil, err
				}
				var counting client.WithWatch
				counting, counter = rt.Counting(c)
				return counting, nil
			},
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(widgetController().Complete(mgr)).To(Succeed())
		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(mctx)).To(Succeed())
		}()

		nss := freshNamespaces(ctx, 2)
		createWidget(ctx, "managed", map[string]string{"color": "blue"}, nss...)
		key := types.NamespacedName{Name: "managed"}
		Eventually(func(g Gomega) {
			w := &Widget{}
			g.Expect(k8s.Get(ctx, key, w)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(w.Status.Conditions, "Ready")).To(BeTrue())
			g.Expect(w.Status.Synced).To(Equal(2))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		// Steady state under the real event loop: no writes at all.
		time.Sleep(2 * time.Second)
		counter.Reset()
		Consistently(func() int { return counter.Calls().Writes() }).WithTimeout(3 * time.Second).Should(BeZero())

		// A hand edit triggers a reconcile through the label watch and is repaired.
		cm := getCMIn(ctx, nss[1], "widget-managed")
		cm.Data["color"] = "red"
		Expect(k8s.Update(ctx, cm, client.FieldOwner("kubectl-edit"))).To(Succeed())
		Eventually(func() string { return getCMIn(ctx, nss[1], "widget-managed").Data["color"] }).
			WithTimeout(30 * time.Second).Should(Equal("blue"))

		// Deleting the primary removes its children, then the primary.
		w := &Widget{}
		Expect(k8s.Get(ctx, key, w)).To(Succeed())
		Expect(k8s.Delete(ctx, w)).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(k8s.Get(ctx, key, &Widget{})) }).
			WithTimeout(30 * time.Second).Should(BeTrue())
		for _, ns := range nss {
			err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "widget-managed"}, &corev1.ConfigMap{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "child in %s not deleted", ns)
		}
	})
})

func unmanagedCMNamed(ns, name, color string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"color": color}}
}
