package reliability

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Faults between Courier and the API server. The manager talks to the API server
// through faultproxy_test.go's two layers; the spec injects one fault at a time,
// changes a source and a rollout input while it lasts, heals it, and checks, from
// the API server's side (watches as admin, never Courier's counters):
//
//   - no copy is ever deleted (a failed, timed-out or cut list must not look like
//     "nothing is there");
//   - no copy is written with stale content after the fault heals (per copy, the
//     source versions its writes carry never go back);
//   - every change rolls the workload exactly once;
//   - Courier converges after every fault (the time is reported);
//   - no goroutine or memory leak across all the faults (the manager's own
//     go_goroutines and heap, from its metrics endpoint).

// fault is one fault class: inject starts it, heal ends it.
type fault struct {
	name         string
	inject, heal func()
	// during runs while the fault lasts, after the sources changed.
	during func()
	// hold is how long the fault lasts before it heals.
	hold time.Duration
}

var _ = Describe("faults: the link between Courier and the API server fails", Ordered, func() {
	ctx := context.Background()
	var (
		fp      *faultProxy
		tcp     *tcpFaults
		m       *manager
		f       *fanout
		dep     *appsv1.Deployment
		input   string
		copies  *copyHistory
		rolls   *templateChanges
		version int
		// compactedFrom is the Secrets resourceVersion before a compaction.
		compactedFrom string
		converged     = map[string][]time.Duration{}
	)

	BeforeAll(func() {
		var err error
		fp, err = newFaultProxy(restCfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(fp.close)
		tcp, err = newTCPFaults(fp.addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tcp.close)
		m = startManagerWith(faultyKubeconfig(ctx, tcp.addr(), fp.caPEM))
		DeferCleanup(m.kill)

		f = newFanout(ctx, "faults", cfgs.FaultTargets)
		f.expectConverged(ctx)
		copies = watchCopyHistory(ctx, f.name)
		DeferCleanup(copies.stop)

		requireRollout(ctx)
		ns := mkNamespace(ctx, uniq("faults-rollout"), nil)
		input = "settings"
		mkConfigMap(ctx, ns, input)
		dep = mkDeployment(ctx, ns, "web", input)
		Eventually(func() string {
			var d appsv1.Deployment
			Expect(admin.Get(ctx, keyOf(ns, "web"), &d)).To(Succeed())
			return d.Annotations[annAppliedHash]
		}).ShouldNot(BeEmpty(), "the workload was never tracked")
		rolls = watchTemplateChanges(ctx, dep)
		DeferCleanup(rolls.stop)
	})

	// change gives the sources and the rollout input a new version, during a fault.
	change := func() {
		version++
		v := fmt.Sprintf("v%d", version)
		Eventually(func() error {
			var c corev1.ConfigMap
			if err := admin.Get(ctx, keyOf(f.srcNS, f.configMap), &c); err != nil {
				return err
			}
			c.Data["version"] = v
			return admin.Update(ctx, &c)
		}).Should(Succeed())
		for _, name := range f.secrets {
			var s corev1.Secret
			Eventually(func() error {
				if err := admin.Get(ctx, keyOf(f.srcNS, name), &s); err != nil {
					return err
				}
				s.Data["version"] = []byte(v)
				return admin.Update(ctx, &s)
			}).Should(Succeed())
		}
		var cm corev1.ConfigMap
		Eventually(func() error {
			if err := admin.Get(ctx, keyOf(dep.Namespace, input), &cm); err != nil {
				return err
			}
			cm.Data["version"] = v
			return admin.Update(ctx, &cm)
		}).Should(Succeed())
	}

	run := func(fl fault) {
		figures.faults.Add(1)
		fl.inject()
		change()
		if fl.during != nil {
			fl.during()
		}
		time.Sleep(fl.hold)
		fl.heal()
		healed := time.Now()
		f.expectConverged(ctx)
		Eventually(rolls.count).WithTimeout(2*time.Minute).Should(BeNumerically(">=", version), "a rollout lost after %s", fl.name)
		took := time.Since(healed)
		Expect(rolls.count()).To(Equal(version), "rollouts doubled after %s", fl.name)
		converged[fl.name] = append(converged[fl.name], took)
		Expect(copies.deletions()).To(BeEmpty(), "copies deleted during %s", fl.name)
		Expect(copies.regressions()).To(BeEmpty(), "copies written with stale content after %s", fl.name)
	}

	quick := []fault{
		{name: "latency 300 ms", hold: 3 * time.Second,
			inject: func() {
				Expect(tcp.add("latency", "latency", map[string]any{"latency": 300, "jitter": 100})).To(Succeed())
			},
			heal: func() { tcp.remove("latency") }},
		{name: "connection resets", hold: 2 * time.Second,
			inject: func() { Expect(tcp.add("reset", "reset_peer", map[string]any{"timeout": 200})).To(Succeed()) },
			heal:   func() { tcp.remove("reset") }},
		{name: "429 burst", hold: 3 * time.Second,
			inject: func() { fp.statusBurst(http.StatusTooManyRequests, 40) }, heal: func() { fp.statusBurst(0, 0) }},
		{name: "500 burst", hold: 3 * time.Second,
			inject: func() { fp.statusBurst(http.StatusInternalServerError, 40) }, heal: func() { fp.statusBurst(0, 0) }},
		{name: "503 burst", hold: 3 * time.Second,
			inject: func() { fp.statusBurst(http.StatusServiceUnavailable, 40) }, heal: func() { fp.statusBurst(0, 0) }},
		{name: "expired watches and cut lists", hold: 3 * time.Second,
			inject: func() {
				fp.cutLists(10)
				fp.expireWatches(20)
				fp.dropConnections() // every watch reconnects, gets 410 Gone and lists again
			},
			heal: func() { fp.cutLists(0); fp.expireWatches(0) }},
		{name: "etcd compaction while cut off", hold: time.Second,
			// The real 410: Secrets have no watch cache in this suite's API server
			// (suite_test.go), so a watch resumed from a compacted revision is
			// refused by etcd. The manager is cut off, the sources change, etcd is
			// compacted, and the manager comes back to resume its watches.
			inject: func() {
				compactedFrom = currentSecretsRV(ctx, f.srcNS)
				Expect(tcp.add("cutoff", "reset_peer", map[string]any{"timeout": 0})).To(Succeed())
			},
			during: func() { compactEtcd(ctx); expectGone(ctx, f.srcNS, compactedFrom) },
			heal:   func() { tcp.remove("cutoff") }},
	}
	// long is a function: its durations are settings, read in BeforeSuite.
	long := func() []fault {
		return []fault{{name: "half-open link", hold: 20 * time.Second,
			inject: func() { Expect(tcp.add("halfopen", "timeout", map[string]any{"timeout": 0})).To(Succeed()) },
			heal:   func() { tcp.remove("halfopen") }},
			{name: fmt.Sprintf("blackhole %ds", cfgs.BlackholeSeconds), hold: time.Duration(cfgs.BlackholeSeconds) * time.Second,
				inject: func() {
					Expect(tcp.add("blackhole", "timeout", map[string]any{"timeout": cfgs.BlackholeSeconds * 1000})).To(Succeed())
				},
				heal: func() { tcp.remove("blackhole") }},
		}
	}

	It("loses, doubles and leaks nothing across every fault, and converges after each", func() {
		settle := func() (int, float64) {
			// A quiet manager: what it holds is what it keeps.
			time.Sleep(3 * time.Second)
			return managerGauge(m, "go_goroutines"), float64(managerGauge(m, "go_memstats_heap_inuse_bytes")) / (1 << 20)
		}
		goroutines0, heap0 := settle()
		for _, fl := range long() {
			run(fl)
		}
		for i := 0; i < cfgs.FaultRounds; i++ {
			for _, fl := range quick {
				run(fl)
			}
		}
		goroutines1, heap1 := settle()
		seen := managerRequestCodes(m)

		var b strings.Builder
		for _, n := range slices.Sorted(maps.Keys(converged)) {
			ds := converged[n]
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			fmt.Fprintf(&b, "  %-32s %3d × converged in %s (median) %s (max)\n", n, len(ds), ds[len(ds)/2].Round(10*time.Millisecond), ds[len(ds)-1].Round(10*time.Millisecond))
		}
		report := fmt.Sprintf("%d faults over %d copies: %d error answers, %d cut lists, %d expired watches injected; "+
			"the manager saw %v; %d source versions, %d rollouts; goroutines %d → %d, heap in use %.1f → %.1f MiB\n%s",
			figures.faults.Load(), len(f.expected()), fp.injected.status.Load(), fp.injected.cut.Load(), fp.injected.expire.Load(),
			seen, version, rolls.count(), goroutines0, goroutines1, heap0, heap1, b.String())
		figures.faultReport = report
		GinkgoWriter.Print("faults:\n" + report)
		AddReportEntry("faults", report)
		// The faults reached the manager: it counted the error answers itself, and
		// its watches met the injected 410s.
		for _, code := range []string{"429", "500", "503", "<error>"} {
			Expect(seen).To(HaveKeyWithValue(code, BeNumerically(">", 0)), "the manager never saw a %s answer", code)
		}
		Expect(fp.injected.expire.Load()).To(BeNumerically(">", 0), "no watch met an injected 410")
		Expect(goroutines1).To(BeNumerically("<=", goroutines0+25), "goroutines leaked across the faults")
		Expect(heap1-heap0).To(BeNumerically("<=", 10), "heap grew across the faults")
	})
})

// faultyKubeconfig is the manager ServiceAccount's kubeconfig through the faulty
// link: server at addr, trusting the fault proxy's certificate.
func faultyKubeconfig(ctx context.Context, addr string, caPEM []byte) string {
	tr, err := kube.CoreV1().ServiceAccounts(installNamespace).CreateToken(ctx, managerSA, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](6 * 3600)},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	c := clientcmdapi.NewConfig()
	c.Clusters["faulty"] = &clientcmdapi.Cluster{Server: "https://" + addr, CertificateAuthorityData: caPEM}
	c.AuthInfos[managerSA] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	c.Contexts["faulty"] = &clientcmdapi.Context{Cluster: "faulty", AuthInfo: managerSA}
	c.CurrentContext = "faulty"
	path := filepath.Join(workDir, "faulty.kubeconfig")
	Expect(clientcmd.WriteToFile(*c, path)).To(Succeed())
	return path
}

// managerGauge reads one unlabelled gauge from the manager's metrics.
func managerGauge(m *manager, name string) int {
	for _, line := range strings.Split(m.metrics(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			Expect(err).NotTo(HaveOccurred())
			return int(f)
		}
	}
	Fail("the manager exports no " + name)
	return 0
}

// managerRequestCodes sums the manager's own client-go request counter
// (rest_client_requests_total) by answer code, 2xx left out; "<error>" counts
// requests that got no answer at all.
func managerRequestCodes(m *manager) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(m.metrics(), "\n") {
		rest, ok := strings.CutPrefix(line, "rest_client_requests_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		code := ""
		for _, l := range strings.Split(labels, ",") {
			if v, ok := strings.CutPrefix(l, `code="`); ok {
				code = strings.TrimSuffix(v, `"`)
			}
		}
		if strings.HasPrefix(code, "2") {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		Expect(err).NotTo(HaveOccurred())
		out[code] += int(n)
	}
	return out
}

// copyHistory watches every copy of a propagation as admin, straight from the API
// server: deletions, and per copy the source versions its writes carried.
type copyHistory struct {
	mu        sync.Mutex
	deleted   []string
	latest    map[string]int // kind/namespace/name → highest version seen
	regressed []string
	stopFns   []func()
}

func watchCopyHistory(ctx context.Context, prop string) *copyHistory {
	h := &copyHistory{latest: map[string]int{}}
	opts := metav1.ListOptions{LabelSelector: v1alpha1.LabelClusterPropagation + "=" + prop}
	sl, err := kube.CoreV1().Secrets("").List(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	cl, err := kube.CoreV1().ConfigMaps("").List(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	opts.ResourceVersion = sl.ResourceVersion
	sw, err := kube.CoreV1().Secrets("").Watch(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	opts.ResourceVersion = cl.ResourceVersion
	cw, err := kube.CoreV1().ConfigMaps("").Watch(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	for _, w := range []watch.Interface{sw, cw} {
		h.stopFns = append(h.stopFns, w.Stop)
		go h.follow(w)
	}
	return h
}

func (h *copyHistory) follow(w watch.Interface) {
	for ev := range w.ResultChan() {
		var key, version string
		switch o := ev.Object.(type) {
		case *corev1.Secret:
			key, version = "Secret/"+o.Namespace+"/"+o.Name, string(o.Data["version"])
		case *corev1.ConfigMap:
			key, version = "ConfigMap/"+o.Namespace+"/"+o.Name, o.Data["version"]
		default:
			// A watch of a test that runs for minutes never expires (no watch
			// cache window applies to a live stream); anything else is a failure.
			h.mu.Lock()
			h.regressed = append(h.regressed, fmt.Sprintf("the history watch failed: %v", ev.Object))
			h.mu.Unlock()
			continue
		}
		v, _ := strconv.Atoi(strings.TrimPrefix(version, "v"))
		h.mu.Lock()
		switch ev.Type {
		case watch.Deleted:
			h.deleted = append(h.deleted, key)
		case watch.Added, watch.Modified:
			if v < h.latest[key] {
				h.regressed = append(h.regressed, fmt.Sprintf("%s: v%d written after v%d", key, v, h.latest[key]))
			}
			h.latest[key] = max(h.latest[key], v)
		}
		h.mu.Unlock()
	}
}

func (h *copyHistory) deletions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.deleted...)
}

func (h *copyHistory) regressions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.regressed...)
}

func (h *copyHistory) stop() {
	for _, s := range h.stopFns {
		s()
	}
}

// templateChanges counts the pod-template changes of a workload, from a watch.
type templateChanges struct {
	n    atomic.Int64
	stop func()
}

func watchTemplateChanges(ctx context.Context, d *appsv1.Deployment) *templateChanges {
	var cur appsv1.Deployment
	Expect(admin.Get(ctx, keyOf(d.Namespace, d.Name), &cur)).To(Succeed())
	w, err := kube.AppsV1().Deployments(d.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + d.Name, ResourceVersion: cur.ResourceVersion})
	Expect(err).NotTo(HaveOccurred())
	t := &templateChanges{stop: w.Stop}
	last := cur.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]
	go func() {
		for ev := range w.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok && ev.Type == watch.Modified {
				if h := d.Spec.Template.Annotations[v1alpha1.AnnotationConfigHash]; h != last {
					last = h
					t.n.Add(1)
				}
			}
		}
	}()
	return t
}

func (t *templateChanges) count() int { return int(t.n.Load()) }

// currentSecretsRV is the resourceVersion of a list of ns's Secrets: a point in
// etcd's history.
func currentSecretsRV(ctx context.Context, ns string) string {
	l, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	return l.ResourceVersion
}

// compactEtcd compacts etcd's history up to its current revision, as the API
// server does every five minutes: every older resourceVersion is gone.
func compactEtcd(ctx context.Context) {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{env.ControlPlane.Etcd.URL.String()}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	Expect(err).NotTo(HaveOccurred())
	defer c.Close()
	resp, err := c.Get(ctx, "compaction-probe")
	Expect(err).NotTo(HaveOccurred())
	_, err = c.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical())
	Expect(err).NotTo(HaveOccurred())
}

// expectGone checks that a watch of ns's Secrets from rv is refused with 410 Gone:
// what the manager meets when it resumes from before the compaction.
func expectGone(ctx context.Context, ns, rv string) {
	w, err := kube.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		Expect(apierrors.IsGone(err) || apierrors.IsResourceExpired(err)).To(BeTrue(), "watch from %s: %v", rv, err)
		return
	}
	defer w.Stop()
	select {
	case ev := <-w.ResultChan():
		Expect(ev.Type).To(Equal(watch.Error), "a watch from a compacted revision was served")
		Expect(apierrors.FromObject(ev.Object)).To(Satisfy(func(err error) bool {
			return apierrors.IsGone(err) || apierrors.IsResourceExpired(err)
		}), "a watch from a compacted revision ended with something else than 410")
	case <-time.After(10 * time.Second):
		Fail("a watch from a compacted revision neither failed nor delivered an event")
	}
}
