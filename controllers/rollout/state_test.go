package rollout

import (
	"reflect"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	r := record{
		AppliedHash: "abc",
		AppliedRefs: map[string]string{"configmap/a": "0123456789ab", "secret/b": "absent"},
		Pending:     &pending{Hash: "def", Since: t0, Last: t0.Add(1500 * time.Millisecond)},
	}
	ann := r.metaAnnotations()
	if ann[AnnotationAppliedRefs] != "configmap/a=0123456789ab,secret/b=absent" {
		t.Fatalf("refs annotation = %q", ann[AnnotationAppliedRefs])
	}
	back := readRecord(ann, nil)
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, r)
	}
}

func TestReadRecordToleratesGarbage(t *testing.T) {
	r := readRecord(map[string]string{
		AnnotationAppliedHash:  "abc",
		AnnotationAppliedRefs:  "configmap/a,=x",
		AnnotationPendingHash:  "def",
		AnnotationPendingSince: "yesterday",
		AnnotationPendingLast:  "today",
	}, nil)
	if r.AppliedHash != "abc" || r.AppliedRefs != nil || r.Pending != nil {
		t.Fatalf("got %+v", r)
	}
}

func TestShortDigest(t *testing.T) {
	if shortDigest("absent") != "absent" || shortDigest("0123456789abcdef") != "0123456789ab" {
		t.Fatal("shortDigest")
	}
}
