package propagation

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
)

var _ = Describe("fan-out at scale", func() {
	ctx := context.Background()
	const n = 1000

	It("converges on 1,000 namespaces with exactly 1,000 creates, and a second pass writes nothing", func() {
		team := uniq("scale")
		src := uniq("scale-src")
		mkNamespace(ctx, src, nil)
		mkSecret(ctx, src, "pull", map[string]string{".dockerconfigjson": "{}"})
		names := make([]string, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := range names {
			names[i] = fmt.Sprintf("%s-%04d", team, i)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				defer func() { <-sem }()
				mkNamespace(ctx, names[i], map[string]string{"fan": team})
			}()
		}
		wg.Wait()

		name := uniq("scale")
		isCopy := func(w write) bool { return w.labels[v1alpha1.LabelClusterPropagation] == name }
		isStatus := func(w write) bool {
			return w.kind == "ClusterPropagation" && w.name == name && w.verb == "status-patch"
		}
		copyWrites := func(verb string) func() int {
			return func() int {
				return writes.count(func(w write) bool {
					return w.verb == verb && w.kind == "Secret" && w.labels[v1alpha1.LabelClusterPropagation] == name
				})
			}
		}
		mkCluster(ctx, name, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(src, "pull")},
			Targets: v1alpha1.ClusterTargets{NamespaceSelector: bySelector("fan", team)},
		})
		Eventually(func() int32 { return clusterStatus(ctx, name)().Synced }).WithTimeout(5 * 60e9).Should(BeEquivalentTo(n))

		// Every copy exists, was created exactly once (one POST: copies are Exact
		// children), and nothing else touched the copies: no apply, no update.
		Expect(copyWrites("create")()).To(Equal(n), "one create (POST) per namespace")
		Expect(copyWrites("apply")() + copyWrites("update")() + copyWrites("patch")() + copyWrites("delete")()).To(BeZero())
		for _, ns := range []string{names[0], names[n/2], names[n-1]} {
			Expect(getSecret(ctx, ns, "pull")).NotTo(BeNil())
		}
		// Once converged, nothing is written again: no copy, and no status patch. A
		// reconcile queued by the copies' own events can start from a cached
		// primary that predates the last status write; the DSL recognises that
		// read and does not patch the identical status again.
		copiesBefore := writes.count(isCopy)
		statusBefore := writes.count(isStatus)
		Consistently(func() []string { return writes.since(copiesBefore, isCopy) }).Should(BeEmpty(), "no copy writes once converged")
		Consistently(func() []string { return writes.since(statusBefore, isStatus) }).Should(BeEmpty(), "no redundant status patch once converged")
		stale := writes.count(isStatus) - statusBefore

		// A second reconcile pass, run directly with a counting client: zero writes,
		// status included.
		second := newWriteCounter(scheme)
		e := &engine{opts: testOpts.withDefaults(), kinds: newKindRegistry(mgr.GetRESTMapper(), mgr.GetClient())}
		r, err := reconcilerFor(e, clusterVariant).BuildWith(reconciler.Deps{
			Client: second.wrap(mgr.GetClient()), Reader: mgr.GetAPIReader(), Scheme: scheme,
		})
		Expect(err).NotTo(HaveOccurred())
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(Equal(reconcile.Result{}))
		Expect(second.count(func(write) bool { return true })).To(BeZero(), "steady state makes no write")
		fmt.Fprintf(GinkgoWriter, "1,000-namespace fan-out: %d creates, %d other copy writes, %d redundant status patches from a stale cache, %d writes in the second pass\n",
			copyWrites("create")(), copyWrites("apply")()+copyWrites("update")()+copyWrites("patch")()+copyWrites("delete")(), stale, second.count(func(write) bool { return true }))
		AddReportEntry("fan-out writes", fmt.Sprintf("creates=%d secondPassWrites=%d", copyWrites("create")(), second.count(func(write) bool { return true })))
	})
})
