package rollout

import (
	"maps"
	"testing"
)

// FuzzRecordAnnotations checks that whatever a user (or a bug) leaves in the state
// annotations, reading it never panics and storing what was read is stable: a second
// read-and-store round gives the same annotations, so garbage cannot cause a write
// loop.
func FuzzRecordAnnotations(f *testing.F) {
	f.Add("abc", "configmap/a=0123456789ab,secret/b=absent", "def", "2026-11-27T12:00:00Z", "2026-11-27T12:00:01.5Z")
	f.Add("", "configmap/a", "x", "yesterday", "")
	f.Add("h", ",=,", "", "", "")
	f.Fuzz(func(t *testing.T, applied, refs, pendingHash, since, last string) {
		in := map[string]string{
			AnnotationAppliedHash: applied, AnnotationAppliedRefs: refs,
			AnnotationPendingHash: pendingHash, AnnotationPendingSince: since, AnnotationPendingLast: last,
		}
		once := readRecord(in, nil).metaAnnotations()
		twice := readRecord(once, nil).metaAnnotations()
		if !maps.Equal(once, twice) {
			t.Fatalf("not stable:\n%v\n%v", once, twice)
		}
	})
}
