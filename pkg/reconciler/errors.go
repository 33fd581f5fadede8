package reconciler

import (
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Outcome is the classification of the result of a step or of a whole reconcile.
type Outcome string

const (
	// OutcomeDone means the step finished without error.
	OutcomeDone Outcome = "done"
	// OutcomeTransient means an ordinary error: controller-runtime retries with backoff.
	OutcomeTransient Outcome = "transient"
	// OutcomeWaiting means the step is waiting for something; the primary is requeued
	// after a delay without logging an error.
	OutcomeWaiting Outcome = "waiting"
	// OutcomeTerminal means the step cannot make progress until the primary changes:
	// Stalled=True, no retry.
	OutcomeTerminal Outcome = "terminal"
)

// classified is the error created by Terminal and Waiting.
type classified struct {
	outcome Outcome
	after   time.Duration
	reason  string
	message string
}

func (e *classified) Error() string {
	if e.outcome == OutcomeWaiting {
		return fmt.Sprintf("waiting %s (%s): %s", e.after, e.reason, e.message)
	}
	return fmt.Sprintf("%s: %s", e.reason, e.message)
}

// Terminal returns an error that stalls the primary: Stalled=True and Ready=False with
// this reason and message, and no retry until the primary (or a watched object)
// changes. It wraps reconcile.TerminalError, so controller-runtime does not requeue it.
func Terminal(reason, format string, args ...any) error {
	return reconcile.TerminalError(&classified{outcome: OutcomeTerminal, reason: reason, message: fmt.Sprintf(format, args...)})
}

// Waiting returns an error that means "not an error, but not done either": the
// primary is requeued after the given delay, nothing is logged as an error, and
// Reconciling=True / Ready=False carry this reason and message. A non-positive delay
// is treated as one second.
func Waiting(after time.Duration, reason, format string, args ...any) error {
	if after <= 0 {
		after = time.Second
	}
	return &classified{outcome: OutcomeWaiting, after: after, reason: reason, message: fmt.Sprintf(format, args...)}
}

// errHalt stops a Sequence without failing it (used by Finalizer on deletion).
var errHalt = errors.New("reconciler: sequence halted")

// Classify reports how an error returned by a step is treated: nil is OutcomeDone,
// errors from Terminal (or any reconcile.TerminalError) are OutcomeTerminal, errors
// from Waiting are OutcomeWaiting and every other error is OutcomeTransient. Wrapped
// errors (fmt.Errorf("...: %w", err)) keep their class.
func Classify(err error) Outcome {
	o, _, _, _ := classify(err)
	return o
}

// classify is the one place errors are mapped to outcomes.
func classify(err error) (outcome Outcome, after time.Duration, reason, message string) {
	if err == nil || errors.Is(err, errHalt) {
		return OutcomeDone, 0, "", ""
	}
	var c *classified
	if errors.As(err, &c) {
		if c.outcome == OutcomeTerminal && !errors.Is(err, reconcile.TerminalError(nil)) {
			// Cannot happen through Terminal, kept for safety.
			return OutcomeTerminal, 0, c.reason, c.message
		}
		return c.outcome, c.after, c.reason, c.message
	}
	if errors.Is(err, reconcile.TerminalError(nil)) {
		return OutcomeTerminal, 0, ReasonTerminalError, err.Error()
	}
	return OutcomeTransient, 0, ReasonTransientError, err.Error()
}
