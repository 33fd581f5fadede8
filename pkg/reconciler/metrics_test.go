package reconciler_test

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	rt "github.com/courier-operator/courier/pkg/reconciler/reconcilertest"
)

func TestMetricsRegistered(t *testing.T) {
	harness(controllerWith(configMapSet())).RunCase(t, caseFor(widget("w", blue, "a")))
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"courier_reconcile_step_duration_seconds": false,
		"courier_reconcile_outcomes_total":        false,
		"courier_child_operations_total":          false,
	}
	for _, f := range families {
		if _, ok := want[f.GetName()]; !ok {
			continue
		}
		want[f.GetName()] = true
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["controller"] == "" || labels["step"] == "" {
				t.Errorf("%s without controller/step labels: %v", f.GetName(), labels)
			}
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("metric %s not exported", name)
		}
	}
}

func caseFor(objs ...client.Object) rt.Case[*Widget] {
	return rt.Case[*Widget]{Objects: objs, Key: wKey}
}
