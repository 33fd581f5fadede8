// Package controllers wires Courier's controllers into a controller-runtime manager.
//
// Each feature lives in its own sub-package (propagation, rollout) and exposes the
// same three things: an Options struct, SetupWithManager, and CacheByObject — the
// label- or field-selected cache entries it needs. This package only aggregates them,
// so cmd/courier never needs to know which feature watches what.
package controllers
