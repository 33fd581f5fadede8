package managerproc

import "testing"

func TestParseMetrics(t *testing.T) {
	text := `# HELP apiserver_request_total Counter
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",resource="secrets",verb="POST"} 12
apiserver_request_total{code="200",resource="secrets",subresource="",verb="APPLY"} 3
apiserver_request_total{code="200",resource="configmaps",verb="GET"} 1e+03
go_memstats_heap_inuse_bytes 4.194304e+06
weird{a="x\"y",b="c,d}"} 1 1700000000
`
	m, err := ParseMetrics(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Sum("apiserver_request_total", map[string]string{"resource": "secrets"}); got != 15 {
		t.Errorf("secrets sum = %v, want 15", got)
	}
	if got := m.Sum("apiserver_request_total", map[string]string{"verb": "GET"}); got != 1000 {
		t.Errorf("GET sum = %v, want 1000", got)
	}
	if got := m.Sum("go_memstats_heap_inuse_bytes", nil); got != 4194304 {
		t.Errorf("heap = %v", got)
	}
	w := m.Filter("weird", nil)
	if len(w) != 1 || w[0].Labels["a"] != `x"y` || w[0].Labels["b"] != "c,d}" || w[0].Value != 1 {
		t.Errorf("weird = %+v", w)
	}
	only, err := ParseMetrics(text, "go_memstats_heap_inuse_bytes")
	if err != nil || len(only) != 1 {
		t.Errorf("filtered parse = %v, %v", only, err)
	}
	if _, err := ParseMetrics("bad{a=1} 2\n"); err == nil {
		t.Error("malformed label accepted")
	}
}

func TestFlagValue(t *testing.T) {
	args := []string{"--metrics-bind-address=127.0.0.1:9", "-leader-elect=true"}
	if flagValue(args, "metrics-bind-address") != "127.0.0.1:9" || flagValue(args, "leader-elect") != "true" {
		t.Error("flagValue")
	}
	if hasFlag(args, "health-probe-bind-address") {
		t.Error("hasFlag")
	}
}
