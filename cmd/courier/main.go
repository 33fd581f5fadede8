// Command courier runs the Courier operator: it propagates configuration across
// namespaces and rolls out workloads when the configuration they consume changes.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // time zones of rollout windows, in images without /usr/share/zoneinfo

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/resource"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // auth providers for local runs
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/courier-operator/courier/controllers"
	"github.com/courier-operator/courier/controllers/propagation"
	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/internal/authzpolicy"
	"github.com/courier-operator/courier/internal/memrelease"
	"github.com/courier-operator/courier/internal/metricsauth"
	"github.com/courier-operator/courier/internal/nsscope"
	"github.com/courier-operator/courier/internal/schedule"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/internal/version"
)

var scheme = courierscheme.New()

// config is everything the flags set.
type config struct {
	metricsAddr          string
	secureMetrics        bool
	enableHTTP2          bool
	probeAddr            string
	pprofAddr            string
	leaderElect          bool
	leaderElectionNS     string
	leaseDuration        time.Duration
	renewDeadline        time.Duration
	retryPeriod          time.Duration
	qps                  float64
	burst                int
	excludedNamespaces   string
	maxConcurrent        int
	childParallelism     int
	rolloutWindow        time.Duration
	rolloutWindows       string
	rolloutMinInterval   time.Duration
	rolloutMaxConcurrent int
	rolloutKinds         []rollout.CustomKind
	gracefulShutdownTime time.Duration
	installPolicy        bool
	namespace            string
	memoryRelease        time.Duration
	memoryLimit          string
	gcHeadroom           string
	watchNamespaces      string
}

func main() {
	var c config
	flag.StringVar(&c.metricsAddr, "metrics-bind-address", ":8443",
		"Address the metrics endpoint binds to (:8443 for HTTPS, :8080 for HTTP, 0 to disable).")
	flag.BoolVar(&c.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS with Kubernetes authentication and authorization. Set to false for local runs.")
	flag.BoolVar(&c.enableHTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server (off by default: HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	flag.StringVar(&c.probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&c.pprofAddr, "pprof-bind-address", "", "Address to serve net/http/pprof on (empty disables it).")
	flag.BoolVar(&c.leaderElect, "leader-elect", false,
		"Enable leader election (a Lease) so only one replica reconciles at a time.")
	flag.StringVar(&c.leaderElectionNS, "leader-election-namespace", "",
		"Namespace of the leader-election Lease (default: the pod's namespace).")
	flag.DurationVar(&c.leaseDuration, "leader-elect-lease-duration", 15*time.Second, "Leader-election lease duration.")
	flag.DurationVar(&c.renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "Leader-election renew deadline.")
	flag.DurationVar(&c.retryPeriod, "leader-elect-retry-period", 2*time.Second, "Leader-election retry period.")
	// Client-side rate limiting is what makes tools in this space take ~100 s for a
	// 500-namespace fan-out. Courier leans on the API server's Priority and Fairness
	// (every Kubernetes >= 1.30 has it) and on its own bounded parallelism instead;
	// these flags put a cap back for clusters that want one.
	flag.Float64Var(&c.qps, "kube-api-qps", -1,
		"Client-side requests per second to the API server; a negative value disables client-side throttling "+
			"and relies on API Priority and Fairness.")
	flag.IntVar(&c.burst, "kube-api-burst", 0, "Client-side burst (only with a positive --kube-api-qps).")
	flag.StringVar(&c.excludedNamespaces, "excluded-namespaces", strings.Join(propagation.DefaultExcludedNamespaces, ","),
		"Comma-separated glob patterns of namespaces no propagation ever targets.")
	flag.StringVar(&c.watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces a namespaced install is limited to: Courier caches, watches, targets and rolls out "+
			"only inside them, and needs RBAC only there (the chart's watchNamespaces). Empty: every namespace.")
	flag.IntVar(&c.maxConcurrent, "max-concurrent-reconciles", 4, "Reconciles of one kind that run at once.")
	flag.IntVar(&c.childParallelism, "child-parallelism", 16, "Concurrent writes one reconcile makes for its copies.")
	flag.DurationVar(&c.rolloutWindow, "rollout-coalesce-window", 5*time.Second,
		"Input changes to a workload within this window coalesce into one rollout.")
	flag.StringVar(&c.rolloutWindows, "rollout-windows", "",
		`Weekly windows rollouts happen in, for workloads without courier.dev/rollout-windows, e.g. "Mon-Fri 22:00-06:00 Europe/Berlin; Sat,Sun 00:00-24:00" `+
			"(a change outside them rolls once when one opens; empty: any time).")
	flag.IntVar(&c.rolloutMaxConcurrent, "rollout-max-concurrent", 0,
		"Cap on the Deployments, StatefulSets and DaemonSets rolling at once, cluster-wide (across --watch-namespaces in a namespaced install); the others wait their turn "+
			"in the order their changes were seen (0: no cap). A workload counts until its status reports the rollout done, or 10 minutes.")
	flag.Func("rollout-kind",
		"Another workload kind with a pod template to roll, GROUP/VERSION/KIND[=FIELD.PATH] (default path spec.template), "+
			"e.g. apps.kruise.io/v1alpha1/CloneSet; repeat for more. It is picked up when its CRD is installed; "+
			"grant its RBAC with an aggregated ClusterRole (config/rbac/extra-kinds-example.yaml). Argo Rollouts need no flag.",
		func(v string) error {
			k, err := rollout.ParseCustomKind(v)
			c.rolloutKinds = append(c.rolloutKinds, k)
			return err
		})
	flag.DurationVar(&c.rolloutMinInterval, "rollout-min-interval", 0,
		"Least time between two rollouts of one workload, for workloads without courier.dev/rollout-min-interval (0: none).")
	flag.DurationVar(&c.gracefulShutdownTime, "graceful-shutdown-timeout", 30*time.Second,
		"How long to wait for running reconciles to finish on SIGTERM.")
	flag.BoolVar(&c.installPolicy, "install-admission-policy", false,
		"Install (server-side apply) the admission policy that checks propagations' authors, its binding and its "+
			"parameter ConfigMap at start. The OLM bundle sets it, because OLM cannot ship admission policies; "+
			"kustomize and the Helm chart install them declaratively (docs/security.md).")
	flag.StringVar(&c.namespace, "namespace", os.Getenv("POD_NAMESPACE"),
		"The namespace Courier runs in, where --install-admission-policy puts the parameter ConfigMap (default $POD_NAMESPACE).")
	flag.DurationVar(&c.memoryRelease, "memory-release-interval", memrelease.DefaultInterval,
		"How often to check whether the live heap halved (thousands of copies deleted) and, if so, return the free heap "+
			"to the kernel at once instead of keeping it resident (0 disables).")
	flag.StringVar(&c.memoryLimit, "memory-limit", os.Getenv("COURIER_MEMORY_LIMIT"),
		"The container's memory limit (a quantity, e.g. 256Mi; default $COURIER_MEMORY_LIMIT, which the chart and the "+
			"bundle fill from limits.memory). The Go runtime's soft memory limit is set to 90% of it, so a start-up or a "+
			"fan-out collects garbage harder instead of being OOM-killed. Ignored when GOMEMLIMIT is set.")
	flag.StringVar(&c.gcHeadroom, "gc-headroom", "0",
		"How far the Go heap may grow past what the last collection found live before the next one (a quantity such as "+
			resource.NewQuantity(memrelease.SuggestedHeadroom, resource.BinarySI).String()+"; 0, the default, keeps the runtime's "+
			"pacing, which lets it grow by the live heap again): a fan-out or a start-up over thousands of copies then peaks "+
			"about this far above its steady memory instead of up to twice it, for about twice the CPU while it lasts "+
			"(docs/performance.md, scenario 9). Ignored when GOGC is set.")
	showVersion := flag.Bool("version", false, "Print the version and exit.")
	zapOpts := zap.Options{Development: false} // JSON, info level; --zap-log-level=debug for more
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	if *showVersion {
		fmt.Println(version.String())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	if err := run(c); err != nil {
		log.Error(err, "courier stopped with an error")
		os.Exit(1)
	}
}

func run(c config) error {
	log := ctrl.Log.WithName("setup")
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	if c.memoryLimit != "" {
		q, err := resource.ParseQuantity(c.memoryLimit)
		if err != nil {
			return fmt.Errorf("--memory-limit %q: %w", c.memoryLimit, err)
		}
		if soft := memrelease.SetSoftLimit(q.Value()); soft > 0 {
			log.Info("soft memory limit set", "containerLimit", q.String(), "softLimitBytes", soft)
		}
	}
	if err := paceCollector(c.gcHeadroom); err != nil {
		return err
	}
	restCfg.QPS = float32(c.qps)
	restCfg.Burst = c.burst
	restCfg.UserAgent = "courier/" + version.Version

	scope := nsscope.New(splitList(c.watchNamespaces)...)
	byObject, err := controllers.CacheByObject()
	if err != nil {
		return err
	}

	var tlsOpts []func(*tls.Config)
	if !c.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(cfg *tls.Config) { cfg.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   c.metricsAddr,
		SecureServing: c.secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if c.secureMetrics {
		// Only callers allowed to GET /metrics (a TokenReview + SubjectAccessReview
		// against the API server) can read metrics. Courier's own filter, not
		// controller-runtime's: that one links k8s.io/apiserver (CEL, OpenTelemetry,
		// gRPC), a third of the binary and of its resident pages.
		metricsOpts.FilterProvider = metricsauth.WithAuthenticationAndAuthorization
	}

	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        c.probeAddr,
		PprofBindAddress:              c.pprofAddr,
		LeaderElection:                c.leaderElect,
		LeaderElectionID:              "courier.courier.dev",
		LeaderElectionNamespace:       c.leaderElectionNS,
		LeaderElectionReleaseOnCancel: true, // hand over at once on SIGTERM instead of waiting out the lease
		LeaseDuration:                 &c.leaseDuration,
		RenewDeadline:                 &c.renewDeadline,
		RetryPeriod:                   &c.retryPeriod,
		GracefulShutdownTimeout:       &c.gracefulShutdownTime,
		Cache: cache.Options{
			// Memory: every cached object drops managedFields (often half its size),
			// and the controllers select what they cache per type (see CacheByObject).
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject:         byObject,
			// A namespaced install caches namespaced kinds only inside its scope
			// (cluster-scoped ones, Namespaces and ClusterPropagations, whole).
			DefaultNamespaces: scope.CacheNamespaces(),
		},
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	if c.installPolicy {
		if err := installAdmissionPolicy(mgr, c.namespace); err != nil {
			return err
		}
	}
	windows, err := schedule.ParseWindows(c.rolloutWindows)
	if err != nil {
		return fmt.Errorf("--rollout-windows: %w", err)
	}
	if err := controllers.Setup(mgr, controllers.Options{
		ExcludedNamespaces:      splitList(c.excludedNamespaces),
		Scope:                   scope,
		MaxConcurrentReconciles: c.maxConcurrent,
		ChildParallelism:        c.childParallelism,
		RolloutWindow:           c.rolloutWindow,
		RolloutWindows:          windows,
		RolloutMinInterval:      c.rolloutMinInterval,
		MaxConcurrentRollouts:   c.rolloutMaxConcurrent,
		RolloutKinds:            c.rolloutKinds,
	}); err != nil {
		return err
	}
	if err := registerBuildInfo(); err != nil {
		return err
	}
	if c.memoryRelease > 0 {
		if err := addMemoryReleaser(mgr, c.memoryRelease); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	// Ready means the caches have synced: a replica that would reconcile from
	// empty caches (and a rollout that would send it traffic-free work) is not.
	if err := mgr.AddReadyzCheck("caches", cachesSynced(mgr.GetCache())); err != nil {
		return fmt.Errorf("adding readiness check: %w", err)
	}

	log.Info("starting courier", "version", version.Version, "namespaces", scope.String(), "leaderElection", c.leaderElect,
		"metrics", c.metricsAddr, "secureMetrics", c.secureMetrics)
	// SetupSignalHandler cancels on SIGTERM/SIGINT; the manager then stops its
	// controllers, waits for running reconciles and releases the lease.
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("running manager: %w", err)
	}
	log.Info("courier stopped cleanly")
	return nil
}

// installAdmissionPolicy adds the Runnable that installs the admission policy
// (retrying until Courier's own RBAC allows it), with a direct client: it runs
// before the caches are needed.
func installAdmissionPolicy(mgr ctrl.Manager, namespace string) error {
	if namespace == "" {
		return errors.New("--install-admission-policy needs --namespace (or $POD_NAMESPACE)")
	}
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return err
	}
	return mgr.Add(&authzpolicy.Installer{Client: c, Namespace: namespace, Log: ctrl.Log.WithName("admission-policy")})
}

// paceCollector starts the collector's headroom pacing (memrelease.StartHeadroom)
// before anything is listed: a start-up's initial lists are one of the peaks it
// bounds.
func paceCollector(headroom string) error {
	q, err := resource.ParseQuantity(headroom)
	if err != nil || q.Sign() < 0 {
		return fmt.Errorf("--gc-headroom %q: want a non-negative quantity such as 16Mi", headroom)
	}
	if gogc, _ := memrelease.StartHeadroom(uint64(q.Value())); gogc > 0 {
		ctrl.Log.WithName("setup").Info("collector paced by headroom", "headroom", q.String(), "gogc", gogc)
	}
	return nil
}

// addMemoryReleaser adds the Runnable that returns free heap to the kernel after a
// large shrink (docs/performance.md, scenario 8), with its metric.
func addMemoryReleaser(mgr ctrl.Manager, interval time.Duration) error {
	released := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "courier_memory_released_bytes_total",
		Help: "Free heap returned to the kernel after the live heap halved.",
	})
	if err := ctrlmetrics.Registry.Register(released); err != nil {
		return fmt.Errorf("registering the memory release metric: %w", err)
	}
	return mgr.Add(&memrelease.Releaser{Interval: interval, MinFree: 8 << 20, Released: released,
		Log: ctrl.Log.WithName("memory")})
}

// cachesSynced is a readiness check that passes once every informer of c has
// synced. It waits at most a second per probe.
func cachesSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("caches have not synced yet")
		}
		return nil
	}
}

// splitList parses a comma-separated flag value, ignoring blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
