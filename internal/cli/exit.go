package cli

import (
	"errors"
	"fmt"
)

// Exit codes of kubectl-courier, stable for scripts and CI jobs.
const (
	// ExitOK: the command ran and everything it shows is Ready.
	ExitOK = 0
	// ExitError: the command could not run (no cluster, nothing readable).
	ExitError = 1
	// ExitUsage: a flag or an argument is wrong.
	ExitUsage = 2
	// ExitNotReady: the command ran, and something it shows is not Ready.
	ExitNotReady = 3
)

// exitError carries an exit code with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a wrong flag or argument (ExitUsage).
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// errNotReady is returned by a command whose output says what is not Ready: there
// is nothing more to print.
var errNotReady = &exitError{code: ExitNotReady, err: errors.New("not ready")}

// ExitCode is the process exit code for the error a command returned.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if e, ok := errors.AsType[*exitError](err); ok {
		return e.code
	}
	return ExitError
}

// Message is what to print on stderr for the error a command returned ("" for
// none: a not-Ready result has said it all on stdout).
func Message(err error) string {
	if err == nil || errors.Is(err, errNotReady) {
		return ""
	}
	return "error: " + err.Error()
}
