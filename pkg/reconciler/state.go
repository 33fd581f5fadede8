package reconciler

import (
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// State is the per-reconcile scope handed to every step.
//
// Object is a deep copy of the primary as read at the start of the reconcile; steps
// may set status fields on it (other than conditions and observedGeneration, which the
// reconciler owns). Its status is written once, at the end of the reconcile, and only
// if it changed.
type State[T client.Object] struct {
	// Object is the primary (a deep copy; steps may set status fields other than conditions).
	Object T
	// Client is the manager's (cached) client.
	Client client.Client
	// Reader is an uncached API reader (mgr.GetAPIReader()).
	Reader client.Reader
	// Log already carries the primary's key.
	Log logr.Logger

	controller string
	scheme     *runtime.Scheme
	recorder   events.EventRecorder
	metrics    *Metrics
	children   *childMemos // nil outside a reconciler: nothing remembered
	contests   *Contests   // nil outside a reconciler: no fight is noticed

	mu       sync.Mutex
	notReady *fact
	values   map[any]any // Key values and ChildSet reports, by their declaration
	deleted  bool        // the primary is being deleted and was released (or never guarded): skip the status write
}

type fact struct{ reason, message string }

// Controller returns the name of the controller running this reconcile.
func (s *State[T]) Controller() string { return s.controller }

// Eventf records an event on the primary. Use it only for events that are not
// condition transitions: those are emitted automatically, once per transition.
// The note is bounded to what the API accepts (Bound). Never put Secret data in an
// event.
func (s *State[T]) Eventf(eventType, reason, format string, args ...any) {
	if s.recorder == nil {
		return
	}
	s.recorder.Eventf(s.Object, nil, eventType, reason, eventAction, "%s", Bound(fmt.Sprintf(format, args...), MaxEventNote))
}

// NotReady records a fact: at the end of this reconcile, Ready=False with this reason
// and message, without failing the current step. The first fact recorded wins.
func (s *State[T]) NotReady(reason, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notReady == nil {
		s.notReady = &fact{reason: reason, message: fmt.Sprintf(format, args...)}
	}
}

// NotReadyReason returns the first NotReady fact recorded in this reconcile, if any.
func (s *State[T]) NotReadyReason() (reason, message string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notReady == nil {
		return "", "", false
	}
	return s.notReady.reason, s.notReady.message, true
}

func (s *State[T]) value(k any) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[k]
	return v, ok
}

func (s *State[T]) setValue(k, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[any]any{}
	}
	s.values[k] = v
}

// Key is a typed slot for a value that one step of a reconcile computes and later
// steps (and the Status hook) read, such as a plan of the desired children. Declare
// it once, next to the steps that share it; its identity, not its name, tells keys
// apart, and Get can only return a V.
//
//	plan := reconciler.NewKey[*Widget, widgetPlan]("plan")
//	plan.Set(s, p)             // in one step
//	p, ok := plan.Get(s)       // in a later one
type Key[T client.Object, V any] struct{ name string }

// NewKey returns a new Key; name only appears in messages.
func NewKey[T client.Object, V any](name string) *Key[T, V] { return &Key[T, V]{name: name} }

// Set stores v for the rest of this reconcile.
func (k *Key[T, V]) Set(s *State[T], v V) { s.setValue(k, v) }

// Get returns the value Set in this reconcile, and whether there is one.
func (k *Key[T, V]) Get(s *State[T]) (V, bool) {
	v, ok := s.value(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// String is the key's name.
func (k *Key[T, V]) String() string { return k.name }
