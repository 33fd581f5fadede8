package metastream

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// faultyStream runs a Secret stream over a fake metadata client whose first list
// fails, and whose watches the test controls.
func faultyStream(t *testing.T) (*Hub, chan *watch.FakeWatcher, *atomic.Int32, context.Context) {
	t.Helper()
	var lists atomic.Int32
	hub, watches, ctx := controlledStream(t, func(fc *metadatafake.FakeMetadataClient) {
		fc.PrependReactor("list", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
			if lists.Add(1) == 1 {
				return true, nil, errors.New("connection refused")
			}
			return false, nil, nil
		})
	}, secret("a", "kept"))
	return hub, watches, &lists, ctx
}

// controlledStream starts a Hub over a fake metadata client holding objs, whose
// Secret watches the test drives (each new watch is sent on the channel); setup, if
// not nil, adds reactors before the Hub starts.
func controlledStream(t *testing.T, setup func(*metadatafake.FakeMetadataClient), objs ...runtime.Object) (*Hub, chan *watch.FakeWatcher, context.Context) {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	fc := metadatafake.NewSimpleMetadataClient(scheme, objs...)
	if setup != nil {
		setup(fc)
	}
	watches := make(chan *watch.FakeWatcher, 4)
	fc.PrependWatchReactor("secrets", func(k8stesting.Action) (bool, watch.Interface, error) {
		w := watch.NewFakeWithChanSize(8, false)
		watches <- w
		return true, w, nil
	})
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(secretGVK, meta.RESTScopeNamespace)
	hub := newHub(fc, mapper)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() { _ = hub.Start(ctx) }()
	return hub, watches, ctx
}

// TestStreamSurvivesFaults: a failed list is retried (nothing is delivered until
// one succeeds); a watch that ends with an error, or sends something that is no
// metadata, is resumed from the last resourceVersion without listing again.
func TestStreamSurvivesFaults(t *testing.T) {
	hub, watches, lists, ctx := faultyStream(t)
	rec := &recorder{}
	subscribe(ctx, t, hub, secretGVK, rec)
	if lists.Load() != 2 {
		t.Fatalf("%d lists, want the failed one and its retry", lists.Load())
	}
	waitFor(t, rec, []string{"create Secret a/kept"})

	w := receive(t, watches)
	w.Error(&apierrors.NewInternalError(errors.New("etcd leader changed")).ErrStatus)
	w = receive(t, watches)
	w.Add(secret("b", "after-error"))
	waitFor(t, rec, []string{"create Secret b/after-error"})
	w.Add(&metav1.Status{Status: metav1.StatusFailure}) // not metadata: the watch is resumed
	w = receive(t, watches)
	w.Modify(secret("a", "kept"))
	waitFor(t, rec, []string{"update Secret a/kept"})
	if lists.Load() != 2 {
		t.Fatalf("a watch fault made the stream list again (%d lists)", lists.Load())
	}
}

// TestSourceContract: the errors a controller can meet from a source, and what it
// shows in logs.
func TestSourceContract(t *testing.T) {
	hub, _, _, ctx := faultyStream(t)
	if err := hub.Source(secretGVK, nil).Start(ctx, nil); err == nil || !strings.Contains(err.Error(), "no event handler") {
		t.Errorf("Start without a handler: %v", err)
	}
	src := hub.Source(secretGVK, &recorder{})
	if err := src.WaitForSync(ctx); err == nil || !strings.Contains(err.Error(), "was not started") {
		t.Errorf("WaitForSync before Start: %v", err)
	}
	if s := src.(interface{ String() string }).String(); s != "metastream /v1, Kind=Secret" {
		t.Errorf("String = %q", s)
	}
	if err := src.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// The first list fails, so the stream is not synced yet when the wait ends.
	if err := src.WaitForSync(cancelled); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("WaitForSync on a cancelled context: %v", err)
	}
	if hub.NeedLeaderElection() {
		t.Error("a Hub waits for nothing: it must not need leader election")
	}
}

// TestNewForManager: a Hub made for a manager is added to it (which starts it) and
// belongs to it alone.
func TestNewForManager(t *testing.T) {
	newMgr := func() ctrl.Manager {
		mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ctrl.Options{
			Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		})
		if err != nil {
			t.Fatal(err)
		}
		return mgr
	}
	mgr := newMgr()
	a, err := NewForManager(mgr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewForManager(newMgr())
	if err != nil || a == b {
		t.Fatalf("hubs of two managers: %p %p %v", a, b, err)
	}
	// Started with the manager: a cancelled manager stops it.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	cancel()
	_ = mgr.Start(ctx)
}
