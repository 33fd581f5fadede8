package rollout

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/courier-operator/courier/internal/contenthash"
)

// shortDigestLen is how much of an input's digest is recorded per input. It only
// needs to tell "this input changed" apart; the full combined hash is recorded too.
const shortDigestLen = 12

// shortDigest shortens a digest for the per-input record; Absent stays readable.
func shortDigest(d string) string {
	if len(d) <= shortDigestLen || d == contenthash.Absent {
		return d
	}
	return d[:shortDigestLen]
}

// pending is a change waiting for the coalescing window (or for a pause to end).
type pending struct {
	// Hash is the combined input hash to roll to.
	Hash string
	// Since is when the first change of the burst was observed.
	Since time.Time
	// Last is when the latest change of the burst was observed.
	Last time.Time
}

// record is the rollout state stored on a workload.
type record struct {
	// AppliedHash is the last applied (or baseline) input hash; empty on first sight.
	AppliedHash string
	// AppliedRefs maps each input ("configmap/a") to its short digest at AppliedHash.
	// Nil when the annotation is missing or unreadable.
	AppliedRefs map[string]string
	// Pending is the change waiting to roll, if any.
	Pending *pending
	// TemplateHash is the pod template's courier.dev/config-hash, if set.
	TemplateHash string
	// JobDue is the name of the Job a rollout of a CronJob decided to start, until
	// it is known to exist (AnnotationJobDue).
	JobDue string
	// LastRollout is when Courier last rolled the workload (zero: never), for the
	// minimum interval between rollouts.
	LastRollout time.Time
}

// readRecord parses the state from the workload's annotations and its pod template's
// annotations. Unreadable parts read as absent: the decision then falls back to the
// safe side (record a new baseline, never roll on garbage).
func readRecord(meta, template map[string]string) record {
	r := record{
		AppliedHash:  meta[AnnotationAppliedHash],
		AppliedRefs:  parseRefDigests(meta[AnnotationAppliedRefs]),
		TemplateHash: template[AnnotationConfigHash],
		JobDue:       meta[AnnotationJobDue],
		LastRollout:  lastRollout(meta),
	}
	if h := meta[AnnotationPendingHash]; h != "" {
		since, err1 := time.Parse(time.RFC3339Nano, meta[AnnotationPendingSince])
		last, err2 := time.Parse(time.RFC3339Nano, meta[AnnotationPendingLast])
		if err1 == nil && err2 == nil {
			r.Pending = &pending{Hash: h, Since: since, Last: last}
		}
	}
	return r
}

// lastRollout reads AnnotationLastRollout from a workload's annotations (zero when
// missing or unreadable).
func lastRollout(meta map[string]string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, meta[AnnotationLastRollout])
	if err != nil {
		return time.Time{}
	}
	return t
}

// metaAnnotations returns the workload metadata annotations that encode r: exactly
// the set this controller owns, so applying them also removes stale ones.
func (r record) metaAnnotations() map[string]string {
	out := map[string]string{}
	if r.AppliedHash != "" {
		out[AnnotationAppliedHash] = r.AppliedHash
		out[AnnotationAppliedRefs] = formatRefDigests(r.AppliedRefs)
	}
	if r.Pending != nil {
		out[AnnotationPendingHash] = r.Pending.Hash
		out[AnnotationPendingSince] = r.Pending.Since.UTC().Format(time.RFC3339Nano)
		out[AnnotationPendingLast] = r.Pending.Last.UTC().Format(time.RFC3339Nano)
	}
	if r.JobDue != "" {
		out[AnnotationJobDue] = r.JobDue
	}
	if !r.LastRollout.IsZero() {
		out[AnnotationLastRollout] = r.LastRollout.UTC().Format(time.RFC3339Nano)
	}
	return out
}

// formatRefDigests renders "configmap/a=0123456789ab,secret/b=absent", sorted.
func formatRefDigests(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// parseRefDigests is the inverse of formatRefDigests; it returns nil for an empty or
// malformed value.
func parseRefDigests(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" || v == "" {
			return nil
		}
		out[k] = v
	}
	return out
}
