package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// growthSteps is how many steps scenario 4b adds the unrelated objects in.
const growthSteps = 4

// growthPoint is Courier's memory with some unrelated objects in the cluster.
type growthPoint struct {
	Secrets    int     `json:"unrelated_secrets"`
	ConfigMaps int     `json:"unrelated_configmaps"`
	SteadyRSS  int64   `json:"steady_rss_bytes"`
	HeapInuse  float64 `json:"heap_inuse_bytes"`
}

// growthResult is the JSON detail of scenario 4b.
type growthResult struct {
	SettleS float64       `json:"settle_s"`
	Points  []growthPoint `json:"points"`
}

// unrelatedGrowth runs scenario 4b: a Courier that manages nothing runs while
// scenario 4's unrelated Secrets and ConfigMaps are created in growthSteps steps;
// after each (and before the first) its steady RSS and heap are read once it is
// idle and has settled. Memory must not grow with objects Courier does not manage
// beyond the streams' key per object; the plot of these points is in
// docs/performance.md.
func (x *run) unrelatedGrowth(ctx context.Context, cp *controlPlane, runner courierRunner) error {
	cfg := x.cfg
	nns := cfg.MemoryNamespaces
	res := &growthResult{SettleS: cfg.MemorySettle.Seconds()}
	x.r.Scenarios["memory_growth"] = res
	data := payload(cfg.SecretBytes, 7)
	cmData := map[string]string{"key": strings.Repeat("c", cfg.SecretBytes)}

	x.logf("memory growth: %d namespaces, then %d Secrets and %d ConfigMaps of %d bytes in %d steps, Courier running",
		nns, cfg.MemorySecrets, cfg.MemoryConfigMaps, cfg.SecretBytes, growthSteps)
	if err := createAll(ctx, cp.c, nns, 32, func(i int) client.Object {
		return namespace(memNamespace(i), map[string]string{memGroupLabel: fmt.Sprintf("g%d", i%cfg.MemoryPropagations)})
	}); err != nil {
		return err
	}
	p, err := runner.start(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	measure := func(secrets, configMaps int) error {
		if _, err := waitIdle(ctx, p, nil, 2*time.Minute); err != nil {
			return err
		}
		time.Sleep(cfg.MemorySettle)
		mem, err := p.Memory()
		if err != nil {
			return err
		}
		m, err := p.Scrape(ctx, "go_memstats_heap_inuse_bytes")
		if err != nil {
			return err
		}
		pt := growthPoint{Secrets: secrets, ConfigMaps: configMaps, SteadyRSS: mem.RSS, HeapInuse: m.Sum("go_memstats_heap_inuse_bytes", nil)}
		res.Points = append(res.Points, pt)
		x.r.row("4b. memory growth", fmt.Sprintf("%d unrelated Secrets + %d ConfigMaps, Courier running: steady RSS (heap in use)",
			secrets, configMaps), fmt.Sprintf("%s (%s)", mib(float64(pt.SteadyRSS)), mib(pt.HeapInuse)), "", "")
		return nil
	}
	if err := measure(0, 0); err != nil {
		return err
	}
	// Object i lives in namespace i%nns, so every namespace holds unrelated-0000...
	// (scenario 4's Deployments consume those).
	for step := 1; step <= growthSteps; step++ {
		s0, s1 := cfg.MemorySecrets*(step-1)/growthSteps, cfg.MemorySecrets*step/growthSteps
		c0, c1 := cfg.MemoryConfigMaps*(step-1)/growthSteps, cfg.MemoryConfigMaps*step/growthSteps
		if err := createAll(ctx, cp.c, s1-s0, 32, func(i int) client.Object {
			return secret(memNamespace((s0+i)%nns), fmt.Sprintf("unrelated-%05d", s0+i), "unrelated", data)
		}); err != nil {
			return err
		}
		if err := createAll(ctx, cp.c, c1-c0, 32, func(i int) client.Object {
			return configMap(memNamespace((c0+i)%nns), fmt.Sprintf("unrelated-%05d", c0+i), "unrelated", cmData)
		}); err != nil {
			return err
		}
		if err := measure(s1, c1); err != nil {
			return err
		}
	}
	first, last := res.Points[0], res.Points[len(res.Points)-1]
	if objects := last.Secrets + last.ConfigMaps; objects > 0 {
		x.r.row("4b. memory growth", "growth per 1,000 unrelated objects: steady RSS / heap in use",
			fmt.Sprintf("%.1f KiB / %.1f KiB", float64(last.SteadyRSS-first.SteadyRSS)*1000/float64(objects)/1024,
				(last.HeapInuse-first.HeapInuse)*1000/float64(objects)/1024), "", "")
	}
	return nil
}
