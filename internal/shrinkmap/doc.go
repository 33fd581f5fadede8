// Package shrinkmap holds Map, a map that gives its memory back when it shrinks.
//
// A Go map never shrinks: delete empties slots but keeps every bucket, so a map
// that once held 5,000 children keeps that memory after they are all gone.
// Courier's per-child bookkeeping would then stay at the size of the largest
// fan-out it ever made (docs/performance.md, scenario 8).
package shrinkmap
