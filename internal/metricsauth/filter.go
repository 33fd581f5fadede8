package metricsauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apimachinery/pkg/util/wait"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The cache lifetimes of controller-runtime's filter: a token stays authenticated for
// a minute, an allowed user for 5 minutes, a denied one for 30 s. A rejected token is
// remembered briefly so a misconfigured scraper cannot turn each scrape into a review.
const (
	authnTTL       = time.Minute
	authnFailedTTL = 10 * time.Second
	allowTTL       = 5 * time.Minute
	denyTTL        = 30 * time.Second
	cacheEntries   = 1024
	reviewTimeout  = 10 * time.Second
)

// reviewBackoff retries a review the API server failed to answer (5xx, timeouts), as
// the API server's own webhook authenticator does.
var reviewBackoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}

// WithAuthenticationAndAuthorization is a metricsserver.Options.FilterProvider. The
// manager's ServiceAccount needs create on authentication.k8s.io tokenreviews and
// authorization.k8s.io subjectaccessreviews; a scraper needs get on the
// nonResourceURL /metrics.
func WithAuthenticationAndAuthorization(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metrics authentication client: %w", err)
	}
	authz, err := authorizationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metrics authorization client: %w", err)
	}
	return New(authn.TokenReviews(), authz.SubjectAccessReviews()), nil
}

// New returns a filter that reviews tokens and access with the given clients.
func New(tokens authenticationclient.TokenReviewInterface, access authorizationclient.SubjectAccessReviewInterface) metricsserver.Filter {
	g := &gate{tokens: tokens, access: access, authn: cache.NewLRUExpireCache(cacheEntries), authz: cache.NewLRUExpireCache(cacheEntries)}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { g.serve(log, next, w, req) }), nil
	}
}

type gate struct {
	tokens authenticationclient.TokenReviewInterface
	access authorizationclient.SubjectAccessReviewInterface
	authn  *cache.LRUExpireCache // token hash → *authenticationv1.UserInfo (nil: rejected)
	authz  *cache.LRUExpireCache // user+verb+path → bool
}

func (g *gate) serve(log logr.Logger, next http.Handler, w http.ResponseWriter, req *http.Request) {
	token, ok := bearerToken(req)
	if !ok {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	user, err := g.authenticate(req.Context(), token)
	if err != nil {
		log.Error(err, "metrics authentication failed")
		http.Error(w, "Authentication failed", http.StatusInternalServerError)
		return
	}
	if user == nil {
		log.V(4).Info("metrics request with a rejected token")
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	verb, path := strings.ToLower(req.Method), req.URL.Path
	allowed, reason, err := g.authorize(req.Context(), user, verb, path)
	if err != nil {
		log.Error(err, "metrics authorization failed", "user", user.Username)
		http.Error(w, fmt.Sprintf("Authorization for user %s failed", user.Username), http.StatusInternalServerError)
		return
	}
	if !allowed {
		log.V(4).Info("metrics request denied", "user", user.Username, "reason", reason)
		http.Error(w, fmt.Sprintf("Authorization denied for user %s", user.Username), http.StatusForbidden)
		return
	}
	next.ServeHTTP(w, req)
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header.
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authenticate returns the token's user, nil if the API server rejected the token.
// Tokens are cached by their SHA-256, never kept or logged in clear.
func (g *gate) authenticate(ctx context.Context, token string) (*authenticationv1.UserInfo, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if v, ok := g.authn.Get(key); ok {
		return v.(*authenticationv1.UserInfo), nil
	}
	var res *authenticationv1.TokenReview
	err := review(ctx, func(ctx context.Context) (err error) {
		res, err = g.tokens.Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	if !res.Status.Authenticated {
		g.authn.Add(key, (*authenticationv1.UserInfo)(nil), authnFailedTTL)
		return nil, nil
	}
	user := res.Status.User
	g.authn.Add(key, &user, authnTTL)
	return &user, nil
}

// authorize asks whether user may perform verb on the non-resource URL path.
func (g *gate) authorize(ctx context.Context, user *authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	key := accessKey(user, verb, path)
	if v, ok := g.authz.Get(key); ok {
		return v.(bool), "cached", nil
	}
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	var res *authorizationv1.SubjectAccessReview
	err := review(ctx, func(ctx context.Context) (err error) {
		res, err = g.access.Create(ctx, sar, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("subject access review: %w", err)
	}
	allowed := res.Status.Allowed && !res.Status.Denied
	ttl := denyTTL
	if allowed {
		ttl = allowTTL
	}
	g.authz.Add(key, allowed, ttl)
	return allowed, res.Status.Reason, nil
}

// accessKey identifies a user (with groups and extra, which authorizers may use) and
// a request.
func accessKey(user *authenticationv1.UserInfo, verb, path string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %q %q %q", verb, path, user.Username, user.UID, strings.Join(user.Groups, "\x00"))
	for _, k := range slices.Sorted(maps.Keys(user.Extra)) {
		fmt.Fprintf(&b, " %q=%q", k, strings.Join(user.Extra[k], "\x00"))
	}
	return b.String()
}

// review runs call with a timeout, retrying while the API server fails to answer.
func review(ctx context.Context, call func(context.Context) error) error {
	return retry.OnError(reviewBackoff, transient, func() error {
		ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
		defer cancel()
		return call(ctx)
	})
}

func transient(err error) bool {
	return apierrors.IsInternalError(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
}
