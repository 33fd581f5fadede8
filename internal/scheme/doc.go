// Package scheme builds the runtime.Scheme Courier's clients use: the built-in kinds
// of client-go and courier.dev. The manager, its tests, the benchmark and the
// scorecard tests all decode the same kinds, so one function serves them all.
package scheme
