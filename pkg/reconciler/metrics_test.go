package reconciler_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/pkg/reconciler"
	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

// TestMetricsRegistered: a reconcile records the step and child metrics, named
// under the namespace given to NewMetrics, with controller and step labels.
func TestMetricsRegistered(t *testing.T) {
	harness(controllerWith(configMapSet())).RunCase(t, caseFor(widget("w", blue, "a")))
	expectFamilies(t, testRegistry, "courier_reconcile_step_duration_seconds", "courier_reconcile_outcomes_total", "courier_child_operations_total")

	// Another program names them its own way.
	acme := reconciler.NewMetrics("acme")
	reg := prometheus.NewRegistry()
	reg.MustRegister(acme.Collectors()...)
	h := rt.Harness[*Widget]{Scheme: newScheme(), NewObj: func() *Widget { return &Widget{} },
		Controller: func() *reconciler.Builder[*Widget] { return controllerWith(configMapSet())().Metrics(acme) }}
	h.RunCase(t, caseFor(widget("w", blue, "a")))
	expectFamilies(t, reg, "acme_reconcile_step_duration_seconds", "acme_reconcile_outcomes_total", "acme_child_operations_total")

	// Without metrics nothing is recorded, and nothing breaks.
	rt.Harness[*Widget]{Scheme: newScheme(), NewObj: func() *Widget { return &Widget{} }, Controller: controllerWith(configMapSet())}.
		RunCase(t, caseFor(widget("w", blue, "a")))
}

func expectFamilies(t *testing.T, reg prometheus.Gatherer, names ...string) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.MetricFamily{}
	for _, f := range families {
		got[f.GetName()] = f
	}
	for _, name := range names {
		f, ok := got[name]
		if !ok {
			t.Errorf("metric %s not exported", name)
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["controller"] == "" || labels["step"] == "" {
				t.Errorf("%s without controller/step labels: %v", name, labels)
			}
		}
	}
}

func caseFor(objs ...client.Object) rt.Case[*Widget] {
	return rt.Case[*Widget]{Objects: objs, Key: wKey}
}
