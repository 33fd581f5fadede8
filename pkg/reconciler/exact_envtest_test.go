package reconciler_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

// wireCall is one HTTP request a reconciler sent to the API server.
type wireCall struct {
	verb      string // GET, LIST, POST, PUT, PATCH, APPLY (a PATCH with the apply content type), DELETE
	resource  string // e.g. "configmaps", "widgets"; "widgets/status" for a subresource
	namespace string
	name      string
	code      int
}

// wireLog records every request made through the configs it wraps: the evidence of
// what a ChildSet costs on the wire, below any client-side counting.
type wireLog struct {
	mu    sync.Mutex
	calls []wireCall
}

func (l *wireLog) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		c := parseWireCall(req)
		if err == nil {
			c.code = resp.StatusCode
		}
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// parseWireCall classifies a request by verb and resource from its path
// (/api/v1/namespaces/ns/configmaps/name, /apis/group/version/widgets/name/status).
func parseWireCall(req *http.Request) wireCall {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		rest = parts[3:]
	}
	c := wireCall{verb: req.Method}
	if len(rest) >= 3 && rest[0] == "namespaces" {
		c.namespace, rest = rest[1], rest[2:]
	}
	if len(rest) > 0 {
		c.resource = rest[0]
	}
	if len(rest) > 1 {
		c.name = rest[1]
	}
	if len(rest) > 2 {
		c.resource += "/" + rest[2]
	}
	switch {
	case req.Method == http.MethodGet && c.name == "":
		c.verb = "LIST"
	case req.Method == http.MethodPatch && strings.HasPrefix(req.Header.Get("Content-Type"), "application/apply-patch"):
		c.verb = "APPLY"
	}
	return c
}

func (l *wireLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// verbs counts the requests on resource by verb (with the status code when it is
// not 2xx, e.g. "POST 409").
func (l *wireLog) verbs(resource string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, c := range l.calls {
		if c.resource != resource {
			continue
		}
		k := c.verb
		if c.code < 200 || c.code > 299 {
			k = fmt.Sprintf("%s %d", c.verb, c.code)
		}
		out[k]++
	}
	return out
}

// writes lists the write requests, as "VERB resource ns/name": on any resource, or
// only on the ones named.
func (l *wireLog) writes(resources ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		if len(resources) > 0 && !slices.Contains(resources, c.resource) {
			continue
		}
		if c.verb != "GET" && c.verb != "LIST" {
			out = append(out, fmt.Sprintf("%s %s %s/%s", c.verb, c.resource, c.namespace, c.name))
		}
	}
	sort.Strings(out)
	return out
}

// wired builds a reconciler over an uncached client against the envtest API server
// whose every HTTP request is logged, counted on top by rt.Counting.
func wired(b *reconciler.Builder[*Widget]) (reconcile.TypedReconciler[reconcile.Request], *wireLog, *rt.Counter) {
	log := &wireLog{}
	c := rest.CopyConfig(cfg)
	c.Wrap(log.wrap)
	cl, err := client.NewWithWatch(c, client.Options{Scheme: newScheme()})
	Expect(err).NotTo(HaveOccurred())
	counting, counter := rt.Counting(cl)
	r, err := b.BuildWith(reconciler.Deps{Client: counting, Reader: counting, Recorder: &rt.Recorder{}})
	Expect(err).NotTo(HaveOccurred())
	return r, log, counter
}

const (
	exactNote = "test.courier.dev/note"
	exactHash = "test.courier.dev/hash"
)

var exactBinary = map[string][]byte{"bin": {0, 1, 2, 0xfe, 0xff}}

// exactCMs is an Exact ChildSet of ConfigMaps with data (the widget's), binaryData
// and an annotation; hash adds a HashAnnotation, like Courier's copies carry.
func exactCMs(hash bool) reconciler.ChildSet[*Widget, *corev1.ConfigMap] {
	return configMapSet(func(cs *reconciler.ChildSet[*Widget, *corev1.ConfigMap]) {
		cs.Desired = perNamespace(func(w *Widget, ns string) *corev1.ConfigMap {
			return &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "widget-" + w.Name, Namespace: ns,
					Annotations: map[string]string{exactNote: "copied"}},
				Data:       w.Spec.Data,
				BinaryData: exactBinary,
			}
		})
		cs.Exact = true
		if hash {
			cs.HashAnnotation = exactHash
		}
	})
}

// withReport captures the ChildSet's report of each reconcile.
func withReport(cs reconciler.ChildSet[*Widget, *corev1.ConfigMap], report *reconciler.ChildReport) *reconciler.Builder[*Widget] {
	return controllerWithReport(cs, report)()
}

func outcomesByNamespace(r reconciler.ChildReport) map[string]reconciler.ChildOutcome {
	out := map[string]reconciler.ChildOutcome{}
	for _, o := range r.Outcomes {
		out[o.Key.Namespace] = o
	}
	return out
}

// expectDropAndHandEditRepaired drops "size" from the widget's data (one PUT per
// child, the key gone everywhere), then adds a key by hand to the child in
// nss[edited] (one PUT of that child only, the key gone).
func expectDropAndHandEditRepaired(ctx context.Context, r reconcile.TypedReconciler[reconcile.Request], wire *wireLog, name string, nss []string, edited int) {
	GinkgoHelper()
	setWidgetData(ctx, name, map[string]string{"color": "blue"})
	wire.reset()
	reconcileOnce(ctx, r, name)
	Expect(wire.verbs("configmaps")).To(Equal(map[string]int{"LIST": 1, "PUT": 2}))
	for _, ns := range nss {
		Expect(getCMIn(ctx, ns, "widget-"+name).Data).To(Equal(map[string]string{"color": "blue"}))
	}
	cm := getCMIn(ctx, nss[edited], "widget-"+name)
	cm.Data["added"] = "by hand"
	Expect(k8s.Update(ctx, cm, client.FieldOwner("kubectl-edit"))).To(Succeed())
	wire.reset()
	reconcileOnce(ctx, r, name)
	Expect(wire.writes()).To(Equal([]string{"PUT configmaps " + nss[edited] + "/widget-" + name}))
	Expect(getCMIn(ctx, nss[edited], "widget-"+name).Data).To(Equal(map[string]string{"color": "blue"}))
}

func setWidgetData(ctx context.Context, name string, data map[string]string) {
	GinkgoHelper()
	w := &Widget{}
	Expect(k8s.Get(ctx, types.NamespacedName{Name: name}, w)).To(Succeed())
	w.Spec.Data = data
	Expect(k8s.Update(ctx, w)).To(Succeed())
}

var (
	updateByCourier = And(HaveField("Manager", "courier"), HaveField("Operation", metav1.ManagedFieldsOperationUpdate))
	applyByCourier  = And(HaveField("Manager", "courier"), HaveField("Operation", metav1.ManagedFieldsOperationApply))
)

var _ = Describe("An Exact ChildSet against a real API server", func() {
	ctx := context.Background()

	It("creates N new children with exactly N POSTs (no GET, no apply), then writes nothing", func() {
		const n = 5
		nss := freshNamespaces(ctx, n)
		createWidget(ctx, "post", map[string]string{"color": "blue", "size": "m"}, nss...)
		var report reconciler.ChildReport
		r, wire, counter := wired(withReport(exactCMs(true), &report))

		reconcileOnce(ctx, r, "post")
		Expect(wire.verbs("configmaps")).To(Equal(map[string]int{"LIST": 1, "POST": n}))
		// The one Get is the primary's; the Patch is its finalizer.
		Expect(counter.Calls()).To(Equal(rt.Calls{Get: 1, List: 1, Create: n, Patch: 1, StatusPatch: 1}))
		Expect(report.Count(reconciler.ChildCreated)).To(Equal(n))
		for _, ns := range nss {
			cm := getCMIn(ctx, ns, "widget-post")
			Expect(cm.Data).To(Equal(map[string]string{"color": "blue", "size": "m"}))
			Expect(cm.BinaryData).To(Equal(exactBinary))
			Expect(cm.Labels).To(Equal(map[string]string{widgetLabel: "post"}))
			Expect(cm.Annotations).To(HaveLen(2))
			Expect(cm.Annotations).To(HaveKeyWithValue(exactNote, "copied"))
			Expect(cm.Annotations[exactHash]).To(HaveLen(32))
			Expect(cm.ManagedFields).To(ContainElement(updateByCourier))
			Expect(cm.ManagedFields).NotTo(ContainElement(HaveField("Operation", metav1.ManagedFieldsOperationApply)))
		}
		w := &Widget{}
		Expect(k8s.Get(ctx, types.NamespacedName{Name: "post"}, w)).To(Succeed())
		Expect(meta.IsStatusConditionTrue(w.Status.Conditions, reconciler.ConditionReady)).To(BeTrue())
		Expect(w.Status.Synced).To(Equal(n))

		wire.reset()
		for i := 0; i < 3; i++ {
			reconcileOnce(ctx, r, "post")
		}
		Expect(wire.writes()).To(BeEmpty())
	})

	DescribeTable("converges children it created by POST: a dropped key and a key added by hand are removed, unchanged children get no write",
		func(hash bool) {
			name := fmt.Sprintf("converge-%t", hash)
			nss := freshNamespaces(ctx, 2)
			createWidget(ctx, name, map[string]string{"color": "blue", "size": "m"}, nss...)
			r, wire, _ := wired(controllerWith(exactCMs(hash))())
			reconcileOnce(ctx, r, name)
			Expect(wire.verbs("configmaps")).To(Equal(map[string]int{"LIST": 1, "POST": 2}))

			// A key dropped from the desired state, then one added by hand. Without
			// the hash only Exact notices the drop (the POST left no Apply entry to
			// compare).
			expectDropAndHandEditRepaired(ctx, r, wire, name, nss, 0)

			// A key added to the desired state: one PUT per child.
			setWidgetData(ctx, name, map[string]string{"color": "blue", "shape": "round"})
			wire.reset()
			reconcileOnce(ctx, r, name)
			Expect(wire.verbs("configmaps")).To(Equal(map[string]int{"LIST": 1, "PUT": 2}))

			wire.reset()
			for i := 0; i < 2; i++ {
				reconcileOnce(ctx, r, name)
			}
			Expect(wire.writes()).To(BeEmpty())
			for _, ns := range nss {
				cm := getCMIn(ctx, ns, "widget-"+name)
				Expect(cm.Data).To(Equal(map[string]string{"color": "blue", "shape": "round"}))
				Expect(cm.ManagedFields).NotTo(ContainElement(HaveField("Operation", metav1.ManagedFieldsOperationApply)))
			}
		},
		Entry("without a hash annotation", false),
		Entry("with a hash annotation", true),
	)

	DescribeTable("upgrade: children an older version created with server-side apply match with zero writes, and still converge",
		func(hash bool) {
			name := fmt.Sprintf("upgrade-%t", hash)
			nss := freshNamespaces(ctx, 2)
			createWidget(ctx, name, map[string]string{"color": "blue", "size": "m"}, nss...)
			old := exactCMs(hash)
			old.Exact = false // the older version: no Exact, created by apply
			r0, wire0, _ := wired(controllerWith(old)())
			reconcileOnce(ctx, r0, name)
			Expect(wire0.verbs("configmaps")).To(Equal(map[string]int{"LIST": 1, "GET 404": 2, "APPLY": 2}))
			Expect(getCMIn(ctx, nss[0], "widget-"+name).ManagedFields).To(ContainElement(applyByCourier))

			r, wire, _ := wired(controllerWith(exactCMs(hash))())
			for i := 0; i < 2; i++ {
				reconcileOnce(ctx, r, name)
			}
			Expect(wire.writes()).To(BeEmpty())

			// A dropped key (the PUT also takes the key out of the old Apply entry,
			// so the next reconcile is quiet again), then a key added by hand.
			expectDropAndHandEditRepaired(ctx, r, wire, name, nss, 1)

			wire.reset()
			for i := 0; i < 2; i++ {
				reconcileOnce(ctx, r, name)
			}
			Expect(wire.writes()).To(BeEmpty())
			for _, ns := range nss {
				Expect(getCMIn(ctx, ns, "widget-"+name).Data).To(Equal(map[string]string{"color": "blue"}))
			}
		},
		Entry("without a hash annotation", false),
		Entry("with a hash annotation", true),
	)

	It("handles an unmanaged object the POST finds (AlreadyExists → GET → OnConflict): skip leaves it untouched, adopt and overwrite apply", func() {
		nss := freshNamespaces(ctx, 4)
		skipNS, adoptTheirsNS, adoptSameNS, overNS := nss[0], nss[1], nss[2], nss[3]
		for ns, color := range map[string]string{skipNS: "theirs", adoptTheirsNS: "theirs", adoptSameNS: "blue", overNS: "theirs"} {
			Expect(k8s.Create(ctx, unmanagedCMNamed(ns, "widget-taken", color), client.FieldOwner("someone"))).To(Succeed())
		}
		skipped := getCMIn(ctx, skipNS, "widget-taken")
		createWidget(ctx, "taken", map[string]string{"color": "blue"}, nss...)
		policy := map[string]reconciler.ConflictAction{skipNS: reconciler.ConflictSkip,
			adoptTheirsNS: reconciler.ConflictAdopt, adoptSameNS: reconciler.ConflictAdopt, overNS: reconciler.ConflictOverwrite}
		cs := exactCMs(false)
		cs.OnConflict = func(ctx context.Context, s *reconciler.State[*Widget], desired, live *corev1.ConfigMap) (reconciler.ConflictAction, string) {
			return policy[live.Namespace], ""
		}
		var report reconciler.ChildReport
		r, wire, _ := wired(withReport(cs, &report))

		reconcileOnce(ctx, r, "taken")
		// Every POST finds the name taken; each object is read once; adopt
		// (twice) and overwrite apply; skip writes nothing.
		Expect(wire.verbs("configmaps")).To(Equal(map[string]int{"LIST": 1, "POST 409": 4, "GET": 4, "APPLY": 2, "APPLY 409": 1}))
		byNS := outcomesByNamespace(report)
		Expect(byNS[skipNS]).To(And(HaveField("Action", reconciler.ChildConflict), HaveField("Reason", reconciler.ReasonUnmanaged)))
		Expect(byNS[adoptTheirsNS]).To(And(HaveField("Action", reconciler.ChildConflict), HaveField("Reason", reconciler.ReasonFieldConflict)))
		Expect(byNS[adoptSameNS]).To(HaveField("Action", reconciler.ChildUpdated))
		Expect(byNS[overNS]).To(HaveField("Action", reconciler.ChildUpdated))

		Expect(getCMIn(ctx, skipNS, "widget-taken")).To(Equal(skipped), "skipped object must stay byte-for-byte untouched")
		Expect(getCMIn(ctx, adoptTheirsNS, "widget-taken").Data["color"]).To(Equal("theirs"))
		for _, ns := range []string{adoptSameNS, overNS} {
			cm := getCMIn(ctx, ns, "widget-taken")
			Expect(cm.Data).To(Equal(map[string]string{"color": "blue"}))
			Expect(cm.Labels).To(HaveKeyWithValue(widgetLabel, "taken"))
			Expect(cm.ManagedFields).To(ContainElement(applyByCourier))
		}
		w := &Widget{}
		Expect(k8s.Get(ctx, types.NamespacedName{Name: "taken"}, w)).To(Succeed())
		Expect(meta.FindStatusCondition(w.Status.Conditions, reconciler.ConditionReady).Reason).To(Equal(reconciler.ReasonChildConflict))

		// Next reconcile: the adopted and overwritten children are owned and exact
		// (no write); the skipped object is still left alone.
		wire.reset()
		reconcileOnce(ctx, r, "taken")
		Expect(wire.writes()).To(ConsistOf(
			"POST configmaps "+skipNS+"/", "POST configmaps "+adoptTheirsNS+"/", "APPLY configmaps "+adoptTheirsNS+"/widget-taken"))
		Expect(getCMIn(ctx, skipNS, "widget-taken")).To(Equal(skipped))
	})

	It("repairs an owned object the list did not show yet (AlreadyExists, labels match) instead of reporting a conflict", func() {
		nss := freshNamespaces(ctx, 2)
		createWidget(ctx, "unlisted", map[string]string{"color": "blue"}, nss...)
		same := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "widget-unlisted", Namespace: nss[0],
				Labels: map[string]string{widgetLabel: "unlisted"}, Annotations: map[string]string{exactNote: "copied"}},
			Data: map[string]string{"color": "blue"}, BinaryData: exactBinary,
		}
		drifted := same.DeepCopy()
		drifted.Namespace = nss[1]
		drifted.Data["added"] = "by hand"
		Expect(k8s.Create(ctx, same)).To(Succeed())
		Expect(k8s.Create(ctx, drifted)).To(Succeed())
		rv := same.ResourceVersion

		cs := exactCMs(false)
		cs.Lister = func(s *reconciler.State[*Widget]) client.Reader { return emptyLister{} } // a cache that has not caught up
		var report reconciler.ChildReport
		r, wire, _ := wired(withReport(cs, &report))
		reconcileOnce(ctx, r, "unlisted")
		Expect(wire.verbs("configmaps")).To(Equal(map[string]int{"POST 409": 2, "GET": 2, "PUT": 1}))
		Expect(wire.writes("configmaps")).To(ConsistOf(
			"POST configmaps "+nss[0]+"/", "POST configmaps "+nss[1]+"/", "PUT configmaps "+nss[1]+"/widget-unlisted"))
		byNS := outcomesByNamespace(report)
		Expect(byNS[nss[0]]).To(HaveField("Action", reconciler.ChildUnchanged))
		Expect(byNS[nss[1]]).To(HaveField("Action", reconciler.ChildUpdated))
		Expect(report.Conflicts()).To(BeEmpty())
		Expect(getCMIn(ctx, nss[0], "widget-unlisted").ResourceVersion).To(Equal(rv))
		Expect(getCMIn(ctx, nss[1], "widget-unlisted").Data).To(Equal(map[string]string{"color": "blue"}))
		w := &Widget{}
		Expect(k8s.Get(ctx, types.NamespacedName{Name: "unlisted"}, w)).To(Succeed())
		Expect(meta.IsStatusConditionTrue(w.Status.Conditions, reconciler.ConditionReady)).To(BeTrue())
	})
})
