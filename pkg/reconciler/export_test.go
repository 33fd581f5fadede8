package reconciler

import "sigs.k8s.io/controller-runtime/pkg/client"

// Internals the external tests look at.

// ExtraField is extraField, for the tests of what Exact removes.
var ExtraField = extraField

// IsExact is isExact.
var IsExact = isExact

// CountExactChecks makes every exactness compare of a ChildSet call count first,
// until restore is called.
func CountExactChecks(count func()) (restore func()) {
	old := exactCheck
	exactCheck = func(d, l client.Object) bool { count(); return old(d, l) }
	return func() { exactCheck = old }
}
