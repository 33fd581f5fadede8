package bench

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		method, path, ctype string
		want                writeKey
		ok                  bool
	}{
		{"POST", "/api/v1/namespaces", "", writeKey{"POST", "namespaces", ""}, true},
		{"POST", "/api/v1/namespaces/a/secrets", "", writeKey{"POST", "secrets", ""}, true},
		{"PUT", "/api/v1/namespaces/a/secrets/s", "", writeKey{"PUT", "secrets", ""}, true},
		{"PATCH", "/apis/apps/v1/namespaces/a/deployments/d", "application/apply-patch+yaml", writeKey{"APPLY", "deployments", ""}, true},
		{"PATCH", "/apis/apps/v1/namespaces/a/deployments/d", "application/merge-patch+json", writeKey{"PATCH", "deployments", ""}, true},
		{"PUT", "/apis/courier.dev/v1alpha1/clusterpropagations/x/status", "", writeKey{"PUT", "clusterpropagations", "status"}, true},
		{"PUT", "/api/v1/namespaces/a/status", "", writeKey{"PUT", "namespaces", "status"}, true},
		{"DELETE", "/api/v1/namespaces/a/configmaps", "", writeKey{"DELETE", "configmaps", ""}, true},
		{"GET", "/api/v1/namespaces/a/secrets", "", writeKey{"LIST", "secrets", ""}, true},
		{"GET", "/api/v1/secrets?watch=true", "", writeKey{"WATCH", "secrets", ""}, true},
		{"GET", "/api/v1/namespaces/a/secrets/s", "", writeKey{"GET", "secrets", ""}, true},
		{"GET", "/api/v1/namespaces/a", "", writeKey{"GET", "namespaces", ""}, true},
		{"GET", "/metrics", "", writeKey{}, false},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", writeKey{}, false},
	}
	for _, c := range cases {
		u, err := url.Parse(c.path)
		if err != nil {
			t.Fatal(err)
		}
		req := &http.Request{Method: c.method, URL: u, Header: http.Header{}}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		got, ok := classify(req)
		if got != c.want || ok != c.ok {
			t.Errorf("%s %s: got %v %v, want %v %v", c.method, c.path, got, ok, c.want, c.ok)
		}
	}
}

func TestWriteCountsSub(t *testing.T) {
	a := writeCounts{{"POST", "secrets", ""}: 10, {"APPLY", "secrets", ""}: 3}
	b := writeCounts{{"POST", "secrets", ""}: 10, {"PUT", "secrets", ""}: 1}
	d := a.sub(b)
	if len(d) != 2 || d[writeKey{"APPLY", "secrets", ""}] != 3 || d[writeKey{"PUT", "secrets", ""}] != -1 {
		t.Errorf("sub = %v", d)
	}
	if d.total("secrets", "*") != 2 {
		t.Errorf("total = %v", d.total("secrets", "*"))
	}
}

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	l := summarize(d)
	if l.Count != 100 || l.TotalS != 0.1 || l.P50S != 0.05 || l.P99S != 0.099 {
		t.Errorf("summarize = %+v", l)
	}
}
