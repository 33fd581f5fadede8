package metricsauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/courier-operator/courier/internal/metricsauth"
	"github.com/courier-operator/courier/test/testenv"
)

// TestAgainstAPIServer checks the filter with real ServiceAccount tokens, RBAC and
// reviews: the role config/rbac gives scrapers (get on /metrics) lets a request in,
// an authenticated user without it gets 403, anything else 401.
func TestAgainstAPIServer(t *testing.T) {
	cfg, httpClient := testenv.Start(t)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(cfg)

	for _, sa := range []string{"prometheus", "stranger"} {
		if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "prometheus", Namespace: "default"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	filter, err := metricsauth.WithAuthenticationAndAuthorization(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	h, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	cases := []struct {
		name, token, path string
		code              int
	}{
		{"bound ServiceAccount", token(ctx, t, cs, "prometheus"), "/metrics", http.StatusOK},
		{"bound ServiceAccount, path not granted", token(ctx, t, cs, "prometheus"), "/metrics/extra", http.StatusForbidden},
		{"ServiceAccount without the role", token(ctx, t, cs, "stranger"), "/metrics", http.StatusForbidden},
		{"forged token", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "/metrics", http.StatusUnauthorized},
		{"no token", "", "/metrics", http.StatusUnauthorized},
	}
	for _, c := range cases {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != c.code {
			t.Errorf("%s: got %d, want %d", c.name, res.StatusCode, c.code)
		}
	}
}

func token(ctx context.Context, t *testing.T, cs kubernetes.Interface, sa string) string {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}
