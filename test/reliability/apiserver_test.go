package reliability

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/courier-operator/courier/api/v1alpha1"
)

var _ = Describe("faults: API server restart during a fan-out", Ordered, func() {
	ctx := context.Background()
	m := sharedManager()

	It("recovers without restarting itself and converges, and its watches keep working", func() {
		f := newFanout(ctx, "apirestart", cfgs.Fanout)
		total := len(f.expected())
		pollUntil(time.Minute, 10*time.Millisecond, func() bool { return f.progress(ctx) >= total/4 })
		pid := m.pid()

		api := env.ControlPlane.APIServer
		By("stopping kube-apiserver")
		from := time.Now().Add(-time.Second)
		stopAPIServer()
		time.Sleep(3 * time.Second) // the manager's requests and watches fail meanwhile
		By("starting kube-apiserver")
		Expect(api.Start()).To(Succeed())
		figures.apiRestarts.Add(1)
		apiRestarts = append(apiRestarts, struct{ from, to time.Time }{from, time.Now().Add(15 * time.Second)})
		By("converging")

		f.expectConverged(ctx)
		Expect(m.alive()).To(BeTrue(), "the manager exited:\n%s", m.tail(3000))
		Expect(m.pid()).To(Equal(pid))
		Expect(strings.Count(m.log(), "starting courier")).To(Equal(1), "the manager restarted itself")

		By("watches re-established: a new namespace and a source update are followed")
		f.targets = append(f.targets, mkNamespace(ctx, f.name+"-late", map[string]string{"fanout": f.name}))
		f.updateSources(ctx)
		f.expectConverged(ctx)
		expectNoCopyWrites(ctx, f)

		deleteAndWait(ctx, &v1alpha1.ClusterPropagation{ObjectMeta: objMeta(f.name)})
		f.expectCleanedUp(ctx)
	})
})

// stopAPIServer stops kube-apiserver: SIGTERM, then SIGKILL when its graceful
// shutdown (which waits for connected clients) outlasts the control plane's stop
// timeout; either way it returns once the port is free.
func stopAPIServer() {
	api := env.ControlPlane.APIServer
	if err := api.Stop(); err != nil {
		Expect(err.Error()).To(ContainSubstring("timeout waiting for process kube-apiserver to stop"))
		GinkgoWriter.Println("kube-apiserver killed after its stop timeout")
	}
	addr := api.SecureServing.Address + ":" + api.SecureServing.Port
	Eventually(func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return fmt.Errorf("%s still accepts connections", addr)
		}
		return nil
	}, 30*time.Second).Should(Succeed())
}
