package apiconversion_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/api/v1beta1"
	courierscheme "github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/internal/storagemigration"
)

var courierCRDs = []string{"clusterpropagations.courier.dev", "propagations.courier.dev"}

// crdClient knows CRDs as well as Courier's kinds.
func crdClient(t *testing.T) client.Client {
	t.Helper()
	s := courierscheme.New()
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	ac, err := client.New(restCfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

func storedVersions(t *testing.T, ac client.Client, name string) []string {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	if err := ac.Get(t.Context(), client.ObjectKey{Name: name}, &crd); err != nil {
		t.Fatal(err)
	}
	return crd.Status.StoredVersions
}

// TestStorageMigration migrates what 0.1 stored: every object written before the
// upgrade is rewritten in v1beta1 (and none written after it), storedVersions ends
// as [v1beta1], and the objects read back unchanged.
func TestStorageMigration(t *testing.T) {
	ac := crdClient(t)
	for _, name := range courierCRDs {
		if got := storedVersions(t, ac, name); !slices.Equal(got, []string{"v1alpha1", "v1beta1"}) {
			t.Fatalf("%s storedVersions before the migration %v, want [v1alpha1 v1beta1]", name, got)
		}
	}
	before := map[string]runtime.Object{}
	for _, obj := range legacyObjects() {
		before[obj.GetName()] = get(t, obj, obj.DeepCopyObject().(client.Object))
	}

	m := &storagemigration.Migrator{Client: ac, CRDs: courierCRDs, Log: logr.Discard()}
	rewritten := 0
	for _, name := range courierCRDs {
		res, err := m.Migrate(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.StorageVersion != "v1beta1" {
			t.Errorf("%s: %+v, want storedVersions set to v1beta1", name, res)
		}
		rewritten += res.Rewritten
		if got := storedVersions(t, ac, name); !slices.Equal(got, []string{"v1beta1"}) {
			t.Errorf("%s storedVersions after the migration %v, want [v1beta1]", name, got)
		}
	}
	if want := len(legacyObjects()); rewritten != want {
		t.Errorf("%d objects rewritten, want the %d stored before the upgrade (those written since are v1beta1 already)", rewritten, want)
	}
	for _, obj := range legacyObjects() {
		after := get(t, obj, obj.DeepCopyObject().(client.Object))
		b := before[obj.GetName()].(client.Object)
		if after.GetUID() != b.GetUID() || after.GetGeneration() != b.GetGeneration() {
			t.Errorf("%s: uid/generation %s/%d, want %s/%d", obj.GetName(), after.GetUID(), after.GetGeneration(), b.GetUID(), b.GetGeneration())
		}
	}

	// Done is done: a second run, and the Runnable on a migrated cluster, change nothing.
	for _, name := range courierCRDs {
		if res, err := m.Migrate(t.Context(), name); err != nil || res.Changed || res.Objects != 0 {
			t.Errorf("%s again: %+v, %v; want nothing to do", name, res, err)
		}
	}
	if err := m.Start(t.Context()); err != nil {
		t.Errorf("Start on a migrated cluster: %v", err)
	}

	// Proof of the bytes stored: without the webhook (conversion None) the API server
	// only relabels what it stored; the key rules are there only if v1beta1 was stored.
	setConversion(t, ac, "clusterpropagations.courier.dev", apiextensionsv1.NoneConverter)
	got := get(t, legacyObjects()[0], &v1beta1.ClusterPropagation{})
	setConversion(t, ac, "clusterpropagations.courier.dev", apiextensionsv1.WebhookConverter)
	if got.Spec.Template == nil || len(got.Spec.Template.Keys) != 2 || got.Spec.Targets.SourceNamespace != v1beta1.SourceNamespaceExclude {
		t.Errorf("read without conversion: %+v, want the object stored as v1beta1", got.Spec)
	}
}

// setConversion switches a CRD's conversion strategy, keeping the webhook's client
// configuration to switch back to.
func setConversion(t *testing.T, ac client.Client, name string, strategy apiextensionsv1.ConversionStrategyType) {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	if err := ac.Get(context.Background(), client.ObjectKey{Name: name}, &crd); err != nil {
		t.Fatal(err)
	}
	if strategy == apiextensionsv1.NoneConverter {
		savedWebhook = crd.Spec.Conversion.Webhook
		crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: strategy}
	} else {
		crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: strategy, Webhook: savedWebhook}
	}
	if err := ac.Update(context.Background(), &crd); err != nil {
		t.Fatal(err)
	}
	waitForConversion(t, ac, name, strategy)
}

var savedWebhook *apiextensionsv1.WebhookConversion

// waitForConversion waits until the API server converts with strategy: the CRD
// handler picks a change up asynchronously. A v1beta1 object with a name prefix
// tells: read through v1alpha1 it carries the conversion annotation only when the
// webhook converted it.
func waitForConversion(t *testing.T, ac client.Client, name string, strategy apiextensionsv1.ConversionStrategyType) {
	t.Helper()
	probe := betaCP("conversion-probe")
	if err := ac.Create(t.Context(), probe); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	want := strategy == apiextensionsv1.WebhookConverter
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var alpha v1alpha1.ClusterPropagation
		if err := ac.Get(t.Context(), client.ObjectKeyFromObject(probe), &alpha); err != nil {
			continue
		}
		if _, ok := alpha.Annotations[v1alpha1.AnnotationConversionData]; ok == want {
			return
		}
	}
	t.Fatalf("%s does not convert with %s after 30 s", name, strategy)
}
