package reconciler

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Options are typed per Builder method, as in controller-runtime's builder: an
// option that makes no sense for a method does not compile there.

// OwnsOption configures Builder.OwnsByLabel.
type OwnsOption interface{ applyToOwns(*ownsOptions) }

// WatchesOption configures Builder.Watches.
type WatchesOption interface{ applyToWatches(*watchesOptions) }

type ownsOptions struct{ namespaced *bool }

type watchesOptions struct{ predicates []predicate.Predicate }

type namespacedPrimary bool

func (n namespacedPrimary) applyToOwns(o *ownsOptions) { b := bool(n); o.namespaced = &b }

// NamespacedPrimary tells OwnsByLabel whether the primary is namespaced (the request
// then takes the child's namespace) or cluster-scoped (empty namespace). Without it
// the scope is read from the manager's RESTMapper, which needs the primary's CRD to
// be installed when the controller is built.
func NamespacedPrimary(namespaced bool) OwnsOption { return namespacedPrimary(namespaced) }

type withPredicates []predicate.Predicate

func (p withPredicates) applyToWatches(o *watchesOptions) { o.predicates = append(o.predicates, p...) }

// WithPredicates filters the events of a watch.
func WithPredicates(p ...predicate.Predicate) WatchesOption { return withPredicates(p) }

// EventStream delivers the events of every object of a kind without caching the
// objects (metastream.Hub implements it). See Builder.WatchesStream.
type EventStream interface {
	Source(gvk schema.GroupVersionKind, h handler.EventHandler) source.SyncingSource
}
