package reliability

import (
	"context"
	"fmt"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// A second writer that disagrees with Courier about one copy (a controller, a
// person with kubectl edit) rewrites it ten times a second. Repairing every edit
// would make the two write forever; Courier notices the fight, backs off, says who
// it is fighting, and repairs the copy within seconds once the writer stops.
var _ = Describe("faults: a writer that keeps rewriting one copy", Ordered, func() {
	ctx := context.Background()
	sharedManager()

	It("costs a bounded number of writes, is reported with the writer's name, and converges when it stops", func() {
		id := uniq("fight")
		src := mkNamespace(ctx, id+"-src", nil)
		tgt := mkNamespace(ctx, id+"-tgt", nil)
		source := mkSecret(ctx, src, "creds")
		p := mkCluster(ctx, id, v1alpha1.ClusterPropagationSpec{
			Sources: []v1alpha1.SourceReference{secretRef(src, "creds")},
			Targets: v1alpha1.ClusterTargets{Namespaces: []v1alpha1.NamespacePattern{v1alpha1.NamespacePattern(tgt)}},
		})
		Eventually(func() string { return conditionOf(ctx, p, "Ready") }).Should(HavePrefix("True"))

		// Every write to the copy, as the API server's watch sees it.
		list, err := kube.CoreV1().Secrets(tgt).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		w, err := kube.CoreV1().Secrets(tgt).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "metadata.name=creds"})
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()
		var writes atomic.Int64
		go func() {
			for ev := range w.ResultChan() {
				if ev.Type == watch.Modified {
					writes.Add(1)
				}
			}
		}()

		By(fmt.Sprintf("rewriting the copy 10 times a second for %ds", cfgs.FightSeconds))
		var edits int64
		// Pauses of the writer, as long as Courier takes for a stop (a loaded machine
		// stalls it): each may cost one repair more.
		var pauses int64
		lastEdit := time.Now()
		sawContest := false
		deadline := time.Now().Add(time.Duration(cfgs.FightSeconds) * time.Second)
		for tick := time.NewTicker(100 * time.Millisecond); time.Now().Before(deadline); <-tick.C {
			var c corev1.Secret
			Expect(admin.Get(ctx, keyOf(tgt, "creds"), &c)).To(Succeed())
			c.Data["password"] = []byte(fmt.Sprintf("fighter-%d", edits))
			switch err := admin.Update(ctx, &c, client.FieldOwner("fighter")); {
			case err == nil:
				edits++
				if time.Since(lastEdit) >= reconciler.ContestQuiet {
					pauses++
				}
				lastEdit = time.Now()
			case !apierrors.IsConflict(err):
				Fail(err.Error())
			}
			if !sawContest {
				sawContest = contains(conditionOf(ctx, p, "Ready"), reconciler.ReasonChildContested, "fighter (Update)")
			}
		}
		courierWrites := writes.Load() - edits
		// The fight ended: the copy is repaired within the quiet spell plus a reconcile.
		stopped := time.Now()
		Eventually(func() []byte {
			var c corev1.Secret
			Expect(admin.Get(ctx, keyOf(tgt, "creds"), &c)).To(Succeed())
			return c.Data["password"]
		}).WithTimeout(reconciler.ContestQuiet + 5*time.Second).WithPolling(50 * time.Millisecond).Should(Equal(source.Data["password"]))
		converged := time.Since(stopped)
		Eventually(func() string { return conditionOf(ctx, p, "Ready") }).Should(HavePrefix("True"))

		// Courier's writes while the writer ran: the repairs before the fight was
		// noticed, one per doubling of the wait, one per pause of the writer, and the
		// last one; not one per edit.
		budget := int64(reconciler.ContestThreshold+bits.Len(uint(cfgs.FightSeconds))+2) + pauses
		GinkgoWriter.Printf("fight: %d edits by the writer in %ds (%d pauses of %s), %d writes by Courier (budget %d), converged %s after it stopped\n",
			edits, cfgs.FightSeconds, pauses, reconciler.ContestQuiet, courierWrites, budget, converged.Round(10*time.Millisecond))
		AddReportEntry("fight", fmt.Sprintf("edits=%d pauses=%d courierWrites=%d budget=%d converged=%s", edits, pauses, courierWrites, budget, converged))
		figures.writerEdits.Add(edits)
		Expect(edits).To(BeNumerically(">", int64(cfgs.FightSeconds)*5), "the writer did not keep up its rate")
		Expect(courierWrites).To(BeNumerically("<=", budget), "Courier repaired the contested copy too often")
		Expect(sawContest).To(BeTrue(), "Ready never said the copy is contested, naming the writer")
		Eventually(func() []string { return eventReasons(ctx, p) }).Should(ContainElement(reconciler.ReasonChildContested)) // sent asynchronously
	})
})

// contains reports whether s contains every part.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// eventReasons lists the reasons of the events about obj.
func eventReasons(ctx context.Context, obj client.Object) []string {
	evs, err := kube.EventsV1().Events(obj.GetNamespace()).List(ctx, metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, e := range evs.Items {
		if e.Regarding.Name == obj.GetName() && e.Regarding.Namespace == obj.GetNamespace() {
			out = append(out, e.Reason)
		}
	}
	return out
}
