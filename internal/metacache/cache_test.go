package metacache_test

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/courier-operator/courier/internal/metacache"
	"github.com/courier-operator/courier/internal/testenv"
)

func newManager(t *testing.T, cfg *rest.Config, opts cache.Options) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  opts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

// TestOnePerManager: the same manager always gets the same cache, another manager
// its own. No API server is contacted before the manager starts.
func TestOnePerManager(t *testing.T) {
	cfg := &rest.Config{Host: "http://127.0.0.1:1"}
	m1, m2 := newManager(t, cfg, cache.Options{}), newManager(t, cfg, cache.Options{})
	a, err := metacache.ForManager(m1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := metacache.ForManager(m1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := metacache.ForManager(m2)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two caches for one manager")
	}
	if a == c {
		t.Error("one cache shared by two managers")
	}
	if a == m1.GetCache() {
		t.Error("the metadata cache is the manager's cache")
	}
}

// TestSeesWhatTheManagerCacheHides runs against a real API server: the manager's
// cache selects Secrets by Courier's label, the metadata cache sees every Secret,
// without data and without managedFields, once the manager started it.
func TestSeesWhatTheManagerCacheHides(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: skipping (export KUBEBUILDER_ASSETS=\"$(hack/control-plane-bins.sh)\")")
	}
	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	k8s, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "unlabelled"},
		Data:       map[string][]byte{"password": []byte("s3cret")},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}

	managedBy := labels.SelectorFromSet(labels.Set{"app.kubernetes.io/managed-by": "courier"})
	mgr := newManager(t, cfg, cache.Options{ByObject: map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: managedBy}}})
	meta, err := metacache.ForManager(mgr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("manager cache did not sync")
	}

	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	deadline := time.Now().Add(30 * time.Second)
	var found *metav1.PartialObjectMetadata
	for found == nil && time.Now().Before(deadline) {
		if err := meta.List(ctx, list, client.InNamespace("default")); err != nil {
			t.Fatal(err)
		}
		for i := range list.Items {
			if list.Items[i].Name == "unlabelled" {
				found = &list.Items[i]
			}
		}
		if found == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if found == nil {
		t.Fatal("the metadata cache does not show the unlabelled Secret")
	}
	if len(found.ManagedFields) != 0 {
		t.Errorf("managedFields kept: %v", found.ManagedFields)
	}

	hidden := &metav1.PartialObjectMetadataList{}
	hidden.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := mgr.GetCache().List(ctx, hidden, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	for _, s := range hidden.Items {
		if s.Name == "unlabelled" {
			t.Error("the manager's cache shows the unlabelled Secret: the test proves nothing")
		}
	}
}
