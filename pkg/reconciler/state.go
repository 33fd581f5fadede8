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
	children   *childMemos // nil outside a reconciler: nothing remembered

	mu       sync.Mutex
	notReady *fact
	reports  map[string]ChildReport
	deleted  bool // the primary is being deleted and was released (or never guarded): skip the status write
}

type fact struct{ reason, message string }

// Controller returns the name of the controller running this reconcile.
func (s *State[T]) Controller() string { return s.controller }

// Scheme returns the scheme used to map Go types to GroupVersionKinds.
func (s *State[T]) Scheme() *runtime.Scheme { return s.scheme }

// Eventf records an event on the primary. Use it only for events that are not
// condition transitions: those are emitted automatically, once per transition.
// Never put Secret data in an event.
func (s *State[T]) Eventf(eventType, reason, format string, args ...any) {
	if s.recorder == nil {
		return
	}
	s.recorder.Eventf(s.Object, nil, eventType, reason, eventAction, format, args...)
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

// Children returns the outcome of the ChildSet step with this name in the current
// reconcile (an empty report if it did not run).
func (s *State[T]) Children(step string) ChildReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports[step]
}

func (s *State[T]) setReport(step string, r ChildReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reports == nil {
		s.reports = map[string]ChildReport{}
	}
	s.reports[step] = r
}

// NewState builds a State outside a reconcile, for unit-testing a single step.
// Production code never needs it: the reconciler creates one State per reconcile.
func NewState[T client.Object](obj T, deps Deps) *State[T] {
	deps = deps.withDefaults()
	return &State[T]{
		Object:     obj,
		Client:     deps.Client,
		Reader:     deps.Reader,
		Log:        deps.Log,
		controller: "test",
		scheme:     deps.Scheme,
		recorder:   deps.Recorder,
	}
}
