package bench

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

const (
	memGroupLabel = "bench.courier.dev/group"
	memSourceNS   = "bench-mem-source"
)

// memoryResult is the JSON detail of scenario 4.
type memoryResult struct {
	UnrelatedSecrets    int                `json:"unrelated_secrets"`
	UnrelatedConfigMaps int                `json:"unrelated_configmaps"`
	Namespaces          int                `json:"namespaces"`
	Propagations        int                `json:"propagations"`
	Copies              int                `json:"copies"`
	Deployments         int                `json:"deployments"`
	SetupS              float64            `json:"setup_s"`
	ConvergedS          float64            `json:"start_to_converged_s"`
	PeakRSS             int64              `json:"peak_rss_bytes"`
	SteadyRSS           int64              `json:"steady_rss_bytes"`
	SteadyRSSAnon       int64              `json:"steady_rss_anon_bytes"`
	SteadyRSSFile       int64              `json:"steady_rss_file_bytes"`
	HeapInuse           float64            `json:"steady_heap_inuse_bytes"`
	GoRuntime           map[string]float64 `json:"steady_go_memstats"`
	PeakHeapInuse       float64            `json:"peak_heap_inuse_bytes_sampled"`
	Writes              map[string]float64 `json:"writes"`
	RolloutBaseline     string             `json:"rollout_baseline,omitempty"`
}

// memGroup runs scenarios 4b and 4 on one control plane: 4b creates the unrelated
// objects in steps while a Courier runs, then 4 starts another Courier on them.
func (x *run) memGroup(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	res := &memoryResult{UnrelatedSecrets: x.cfg.MemorySecrets, UnrelatedConfigMaps: x.cfg.MemoryConfigMaps,
		Namespaces: x.cfg.MemoryNamespaces, Propagations: x.cfg.MemoryPropagations, Copies: x.cfg.MemoryNamespaces,
		Deployments: x.cfg.MemoryDeployments}
	x.r.Scenarios["memory"] = res
	setup := time.Now()
	if err := x.unrelatedGrowth(ctx, cp, runner); err != nil {
		return err
	}
	res.SetupS = time.Since(setup).Seconds()
	return x.memory(ctx, cp, runner, res)
}

// memNamespace is the name of scenario 4's namespace i.
func memNamespace(i int) string { return fmt.Sprintf("mem-%04d", i) }

// memory runs scenario 4: Courier's memory when the cluster holds many Secrets
// and ConfigMaps it neither manages nor consumes.
func (x *run) memory(ctx context.Context, cp *controlPlane, runner courierRunner, res *memoryResult) error {
	cfg, r := x.cfg, x.r
	nns, props := cfg.MemoryNamespaces, cfg.MemoryPropagations
	nsName := memNamespace
	// The unrelated objects exist: scenario 4b made them (memGroup).
	setup := time.Now()
	// Managed: one source Secret per propagation, each propagated to the namespaces
	// of its group (nns/props each), and opted-in Deployments consuming one of the
	// unrelated ConfigMaps and Secrets of their namespace.
	if err := cp.c.Create(ctx, namespace(memSourceNS, nil)); err != nil {
		return err
	}
	for g := 0; g < props; g++ {
		src := fmt.Sprintf("shared-%02d", g)
		if err := cp.c.Create(ctx, secret(memSourceNS, src, "source", payload(cfg.SecretBytes, 100+g))); err != nil {
			return err
		}
		cprop := fanoutPropagation(fmt.Sprintf("bench-mem-%02d", g), memSourceNS, src)
		cprop.Spec.Targets.NamespaceSelector = &v1alpha1.LabelSelector{
			MatchLabels: map[string]v1alpha1.LabelValue{memGroupLabel: v1alpha1.LabelValue(fmt.Sprintf("g%d", g))},
		}
		if err := cp.c.Create(ctx, cprop); err != nil {
			return err
		}
	}
	if err := createAll(ctx, cp.c, cfg.MemoryDeployments, 32, func(i int) client.Object {
		ns := nsName(i % nns)
		// unrelated-<j> with j%nns == i%nns lives in ns; j = i%nns is the first one.
		ref := fmt.Sprintf("unrelated-%05d", i%nns)
		return optedInDeployment(ns, fmt.Sprintf("app-%04d", i), ref, ref)
	}); err != nil {
		return err
	}
	res.SetupS += time.Since(setup).Seconds()
	x.logf("memory: setup took %s", time.Since(setup).Round(time.Second))

	ww, err := cp.beginWrites(ctx)
	if err != nil {
		return err
	}
	copySel := client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}
	tr, err := track(ctx, cp.c, &corev1.SecretList{}, func(client.Object) bool { return true }, copySel)
	if err != nil {
		return err
	}
	defer tr.stop()
	x.logf("memory: starting courier")
	p, err := runner.start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	sampler := sampleMemory(ctx, p, 500*time.Millisecond)
	if err := tr.wait(ctx, nns, scaled(nns, time.Second, 2*time.Minute)); err != nil {
		sampler.stop()
		return fmt.Errorf("copies: %w", err)
	}
	// The rollout controller records a baseline on each opted-in Deployment; wait
	// for it so its work is part of the peak (without failing the memory figures
	// if it never comes: scenario 6 reports that).
	dtr, err := track(ctx, cp.c, &appsv1.DeploymentList{},
		hasAnnotation(appliedHashAnnotation), client.MatchingLabels{benchLabel: "workload"})
	if err != nil {
		sampler.stop()
		return err
	}
	if err := dtr.wait(ctx, cfg.MemoryDeployments, scaled(cfg.MemoryDeployments, 100*time.Millisecond, 20*time.Second)); err != nil {
		res.RolloutBaseline = err.Error()
		x.logf("memory: rollout baseline: %v", err)
	}
	dtr.stop()
	idleAt, err := waitIdle(ctx, p, map[string]int{"clusterpropagation": props}, 2*time.Minute)
	if err != nil {
		sampler.stop()
		return err
	}
	res.ConvergedS = idleAt.Sub(p.StartedAt()).Seconds()
	x.logf("memory: converged %.1f s after start; settling %s", res.ConvergedS, cfg.MemorySettle)
	time.Sleep(cfg.MemorySettle)
	res.PeakHeapInuse = sampler.stop()
	mem, err := p.Memory()
	if err != nil {
		return err
	}
	res.PeakRSS, res.SteadyRSS, res.SteadyRSSAnon, res.SteadyRSSFile = mem.PeakRSS, mem.RSS, mem.RSSAnon, mem.RSSFile
	m, err := p.Scrape(ctx, goMemstats...)
	if err != nil {
		return err
	}
	res.HeapInuse = m.Sum("go_memstats_heap_inuse_bytes", nil)
	res.GoRuntime = map[string]float64{}
	for _, s := range m {
		res.GoRuntime[s.Name] = s.Value
	}
	w, err := ww.end(ctx)
	if err != nil {
		return err
	}
	res.Writes = w.byKey()

	what := fmt.Sprintf("%d unrelated Secrets + %d ConfigMaps; %d propagations, %d copies, %d opted-in Deployments",
		cfg.MemorySecrets, cfg.MemoryConfigMaps, props, nns, cfg.MemoryDeployments)
	r.row("4. memory", "peak RSS (VmHWM), "+what, mib(float64(res.PeakRSS)), "", "")
	r.row("4. memory", fmt.Sprintf("steady RSS (VmRSS, %s after convergence)", cfg.MemorySettle), mib(float64(res.SteadyRSS)), "", "")
	r.row("4. memory", "steady RSS: anonymous / file-backed (executable pages)",
		fmt.Sprintf("%s / %s", mib(float64(res.SteadyRSSAnon)), mib(float64(res.SteadyRSSFile))), "", "")
	r.row("4. memory", "Go heap in use, steady / sampled peak", fmt.Sprintf("%s / %s", mib(res.HeapInuse), mib(res.PeakHeapInuse)), "", "")
	r.row("4. memory", "Go runtime: heap idle not released / stacks / total from OS (go_memstats_sys_bytes)",
		fmt.Sprintf("%s / %s / %s", mib(res.GoRuntime["go_memstats_heap_idle_bytes"]-res.GoRuntime["go_memstats_heap_released_bytes"]),
			mib(res.GoRuntime["go_memstats_stack_inuse_bytes"]), mib(res.GoRuntime["go_memstats_sys_bytes"])), "", "")
	r.row("4. memory", "start to converged", secs(res.ConvergedS), "", "")
	r.row("4. memory", "Courier writes", w.String(), "", "")
	r.budget(memBudget("4. memory: peak RSS", float64(res.PeakRSS), maxPeakRSS))
	r.budget(memBudget("4. memory: steady RSS", float64(res.SteadyRSS), maxSteadyRSS))
	return nil
}

// goMemstats are the Go runtime figures the memory scenario reports, to explain
// RSS beyond the heap in use.
var goMemstats = []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
	"go_memstats_heap_sys_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_memstats_alloc_bytes",
	"go_goroutines"}
