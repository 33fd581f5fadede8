// Package crdcompat checks that a CustomResourceDefinition can replace an
// already released one without breaking anybody who relied on the release.
//
// An upgrade installs the new CRD over the old one on a cluster that already
// stores objects written against the released schema, and that runs clients
// (GitOps repositories, scripts, other controllers) built against it. A change
// is unsafe when either of those could break:
//
//   - an object that the released schema accepted could now be refused, so a
//     stored object can no longer be updated and an unchanged manifest can no
//     longer be applied (a property removed, a tighter limit, a new pattern,
//     a new required field, a new CEL rule, ...);
//   - the served API changes under existing clients or data (the version is
//     gone or no longer served, the kind, plural, group or scope changed, a
//     default changed, unknown fields now pruned, ...).
//
// Compare reports every such change for one version as a Violation. It is
// deliberately conservative: where a change cannot be proven safe without
// understanding its content — a changed regular expression, a changed CEL
// rule, a changed allOf — it is reported, because the point of the check is
// that a human decides, and a human can always release a new API version
// instead. Changes that only loosen validation or add to the API (new
// optional properties, higher limits, more enum values, a removed rule,
// descriptions, printer columns, deprecation, a new version, moving the
// storage version) are never reported.
//
// Contemporary checkers (crdify, operator-controller's crdupgradesafety)
// implement the same idea; this package is the small subset Courier needs,
// with no dependency beyond the CRD types themselves.
//
// The package is pure: it reads no files and talks to no cluster. Decode
// turns the bytes of a CRD manifest into the typed object Compare takes.
package crdcompat
