package metricsauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// reviewer fakes the API server's TokenReview and SubjectAccessReview: token "good"
// is user "scraper", token "nobody" is user "nobody"; only "scraper" may GET /metrics.
type reviewer struct {
	tokenReviews, accessReviews int
	lastAccess                  *authorizationv1.SubjectAccessReview
	failTokens                  error
}

func (r *reviewer) handler(t *testing.T) http.Handler {
	t.Helper()
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.tokenReviews++
		if r.failTokens != nil {
			return true, nil, r.failTokens
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		switch tr.Spec.Token {
		case "good":
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
				Username: "scraper", UID: "u1", Groups: []string{"system:authenticated"},
				Extra: map[string]authenticationv1.ExtraValue{"scope": {"metrics"}}}}
		case "nobody":
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "nobody"}}
		default:
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: false, Error: "invalid bearer token"}
		}
		return true, tr, nil
	})
	cs.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.accessReviews++
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		r.lastAccess = sar
		na := sar.Spec.NonResourceAttributes
		sar.Status.Allowed = sar.Spec.User == "scraper" && na != nil && na.Path == "/metrics" && na.Verb == "get"
		if !sar.Status.Allowed {
			sar.Status.Reason = "no RBAC policy matched"
		}
		return true, sar, nil
	})
	f := New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews())
	h, err := f(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics body")) }))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestFilterDecisions(t *testing.T) {
	r := &reviewer{}
	h := r.handler(t)
	cases := []struct {
		name, path, auth string
		code             int
	}{
		{"no header", "/metrics", "", http.StatusUnauthorized},
		{"basic auth", "/metrics", "Basic Zm9vOmJhcg==", http.StatusUnauthorized},
		{"empty bearer", "/metrics", "Bearer ", http.StatusUnauthorized},
		{"rejected token", "/metrics", "Bearer forged", http.StatusUnauthorized},
		{"authenticated, not allowed", "/metrics", "Bearer nobody", http.StatusForbidden},
		{"allowed user, other path", "/debug", "Bearer good", http.StatusForbidden},
		{"allowed", "/metrics", "Bearer good", http.StatusOK},
		{"scheme is case-insensitive", "/metrics", "bearer good", http.StatusOK},
	}
	for _, c := range cases {
		rec := get(h, c.path, c.auth)
		if rec.Code != c.code {
			t.Errorf("%s: got %d %q, want %d", c.name, rec.Code, rec.Body.String(), c.code)
		}
		if c.code == http.StatusOK && rec.Body.String() != "metrics body" {
			t.Errorf("%s: body %q, want the wrapped handler's", c.name, rec.Body.String())
		}
		if c.code != http.StatusOK && rec.Body.String() == "metrics body" {
			t.Errorf("%s: the wrapped handler ran", c.name)
		}
	}
	// The review carried the whole identity and the non-resource request.
	sar := r.lastAccess.Spec
	if sar.User != "scraper" || sar.UID != "u1" || len(sar.Groups) != 1 || sar.Extra["scope"][0] != "metrics" ||
		sar.NonResourceAttributes.Path != "/metrics" || sar.NonResourceAttributes.Verb != "get" || sar.ResourceAttributes != nil {
		t.Errorf("subject access review spec: %+v", sar)
	}
}

func TestFilterCachesReviews(t *testing.T) {
	r := &reviewer{}
	h := r.handler(t)
	for range 5 {
		if rec := get(h, "/metrics", "Bearer good"); rec.Code != http.StatusOK {
			t.Fatalf("got %d", rec.Code)
		}
		if rec := get(h, "/metrics", "Bearer forged"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("got %d", rec.Code)
		}
	}
	if r.tokenReviews != 2 || r.accessReviews != 1 {
		t.Errorf("10 requests with 2 tokens made %d token reviews and %d access reviews, want 2 and 1", r.tokenReviews, r.accessReviews)
	}
}

func TestFilterReviewErrors(t *testing.T) {
	// A review the API server refuses (here: forbidden, not retried) is a 500, and
	// the wrapped handler does not run.
	r := &reviewer{failTokens: apierrors.NewForbidden(authenticationv1.Resource("tokenreviews"), "", errors.New("rbac"))}
	h := r.handler(t)
	rec := get(h, "/metrics", "Bearer good")
	if rec.Code != http.StatusInternalServerError || rec.Body.String() == "metrics body" {
		t.Errorf("got %d %q, want 500", rec.Code, rec.Body.String())
	}
	if r.tokenReviews != 1 {
		t.Errorf("a forbidden review was retried: %d reviews", r.tokenReviews)
	}
}

func TestFilterRetriesTransientErrors(t *testing.T) {
	old := reviewBackoff
	reviewBackoff.Duration = 0
	defer func() { reviewBackoff = old }()
	r := &reviewer{failTokens: apierrors.NewServiceUnavailable("starting")}
	h := r.handler(t)
	if rec := get(h, "/metrics", "Bearer good"); rec.Code != http.StatusInternalServerError {
		t.Errorf("got %d, want 500", rec.Code)
	}
	if r.tokenReviews != reviewBackoff.Steps {
		t.Errorf("an unavailable API server was asked %d times, want %d", r.tokenReviews, reviewBackoff.Steps)
	}
}
