package propagation

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// verbsNeeded are the verbs Courier needs on a kind to propagate it: read sources and
// copies, watch them, create and apply copies (apply is a patch), delete copies.
var verbsNeeded = []string{"get", "list", "watch", "create", "patch", "delete"}

// accessTTL is how long a successful access check is trusted.
const accessTTL = 5 * time.Minute

// retryForbidden is how often a propagation blocked by missing RBAC re-checks: a
// grant produces no event Courier can watch cheaply.
const retryForbidden = time.Minute

// kindRegistry handles kinds other than Secret and ConfigMap: it checks that they
// are namespaced (RESTMapper) and that Courier may use them (SelfSubjectAccessReview),
// and starts their metadata-only watches on first use, so Courier never lists or
// caches a kind nobody propagates.
type kindRegistry struct {
	mapper meta.RESTMapper
	client client.Client

	mu      sync.Mutex
	allowed map[schema.GroupVersionKind]time.Time
	// started counts, per kind, the starters (in order) whose watch runs: a kind is
	// watched when all have.
	started  map[schema.GroupVersionKind]int
	starters []func(schema.GroupVersionKind) error
}

func newKindRegistry(mapper meta.RESTMapper, c client.Client) *kindRegistry {
	return &kindRegistry{mapper: mapper, client: c, allowed: map[schema.GroupVersionKind]time.Time{}, started: map[schema.GroupVersionKind]int{}}
}

// onNewKind registers a function that starts a controller's watch for a new kind.
func (k *kindRegistry) onNewKind(start func(schema.GroupVersionKind) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.starters = append(k.starters, start)
}

// known returns the extra kinds seen since the process started.
func (k *kindRegistry) known() []schema.GroupVersionKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]schema.GroupVersionKind, 0, len(k.started))
	for g, n := range k.started {
		if n == len(k.starters) {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// ensure returns nil when gvk can be propagated (and its watches run), or a DSL
// outcome: Terminal for a cluster-scoped kind, Waiting for an unknown kind or
// missing permissions.
func (k *kindRegistry) ensure(ctx context.Context, gvk schema.GroupVersionKind) error {
	mapping, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return reconciler.Waiting(retryForbidden, "UnknownKind", "%s is not served by the API server", gvk.String())
	}
	if err != nil {
		return err
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return reconciler.Terminal("ClusterScopedKind", "%s is cluster-scoped; only namespaced kinds can be propagated", gvk.Kind)
	}
	if err := k.checkAccess(ctx, gvk, mapping.Resource); err != nil {
		return err
	}
	return k.startWatches(gvk)
}

func (k *kindRegistry) checkAccess(ctx context.Context, gvk schema.GroupVersionKind, gvr schema.GroupVersionResource) error {
	k.mu.Lock()
	until, ok := k.allowed[gvk]
	k.mu.Unlock()
	if ok && time.Now().Before(until) {
		return nil
	}
	var missing []string
	for _, verb := range verbsNeeded {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource},
		}}
		if err := k.client.Create(ctx, review); err != nil {
			return fmt.Errorf("checking access to %s: %w", gvr.Resource, err)
		}
		if !review.Status.Allowed {
			missing = append(missing, verb)
		}
	}
	if len(missing) > 0 {
		return reconciler.Waiting(retryForbidden, ReasonForbidden,
			"Courier is not allowed to %s %s (group %q, resource %q, all namespaces); grant it with a ClusterRole labelled courier.dev/aggregate-to-manager=true (see docs/propagation.md)",
			strings.Join(missing, ", "), gvr.Resource, gvr.Group, gvr.Resource)
	}
	k.mu.Lock()
	k.allowed[gvk] = time.Now().Add(accessTTL)
	k.mu.Unlock()
	return nil
}

// startWatches starts every controller's watch of gvk once: after a starter
// fails, the next call goes on from it, never starting an earlier one again (which
// would register a second watch, and deliver every event twice).
func (k *kindRegistry) startWatches(gvk schema.GroupVersionKind) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := k.started[gvk]; i < len(k.starters); i++ {
		if err := k.starters[i](gvk); err != nil {
			return fmt.Errorf("watching %s: %w", gvk, err)
		}
		k.started[gvk] = i + 1
	}
	return nil
}

// forbiddenWaiting turns a Forbidden API error on a kind into the Forbidden outcome.
func forbiddenWaiting(gvk schema.GroupVersionKind, err error) error {
	return reconciler.Waiting(retryForbidden, ReasonForbidden, "Courier is not allowed to read %s: %v", gvk.Kind, err)
}
