package metastream

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/courier-operator/courier/test/testenv"
)

// TestAgainstAPIServer streams Secrets from a real API server to two subscribers
// started one after the other: the first sees the Secret that existed before as a
// Create, the second (started on a running stream) does not; later changes arrive
// once per subscriber as PartialObjectMetadata of kind Secret with no data, and both
// share one stream.
func TestAgainstAPIServer(t *testing.T) {
	cfg, httpClient := testenv.Start(t)
	ctx := t.Context()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "before"}, StringData: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}

	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := New(cfg, httpClient, mapper)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hub.Start(ctx) }()
	recs := []*recorder{{check: metadataOnly(t)}, {check: metadataOnly(t)}}
	for _, rec := range recs {
		subscribe(ctx, t, hub, secretGVK, rec)
		if rec == recs[0] {
			// Only the first, started before the stream listed, sees what existed.
			waitFor(t, rec, []string{"create Secret default/before"})
		}
	}
	if n := len(hub.streams); n != 1 {
		t.Errorf("two subscribers to Secrets run %d streams, want 1", n)
	}

	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "after"}, StringData: map[string]string{"k": "v"}}
	if err := c.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.StringData = map[string]string{"k": "changed"}
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		waitFor(t, rec, []string{"create Secret default/after", "delete Secret default/after", "update Secret default/after"})
	}
}
