package bench

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// waveLabel marks the target namespaces of a wave, with the wave's name.
const waveLabel = "bench.courier.dev/wave"

// wave is the copies the memory scenarios make and delete: props
// ClusterPropagations, each copying sources/props Secrets of bytes to all
// namespaces of the wave (every namespace labelled with it), namespaces × sources
// copies in all. Scenario 8 (churn) and scenario 9 (scale) are waves of different
// sizes.
type wave struct {
	name                              string
	namespaces, sources, props, bytes int
}

// copies is how many copies the wave makes.
func (w wave) copies() int { return w.namespaces * w.sources }

func (w wave) namespace(i int) string { return fmt.Sprintf("%s-%05d", w.name, i) }
func (w wave) sourceNS() string       { return "bench-" + w.name + "-source" }
func (w wave) source(i int) string    { return fmt.Sprintf("src-%03d", i) }

// String describes the wave for report rows.
func (w wave) String() string {
	return fmt.Sprintf("%d copies of %s (%d propagations, %d namespaces × %d sources)", w.copies(), kib(w.bytes), w.props,
		w.namespaces, w.sources)
}

// copySel selects every copy Courier made (one wave runs at a time on a control plane).
var copySel = client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}

// setup creates the wave's namespaces and sources; no copy exists yet.
func (w wave) setup(ctx context.Context, c client.Client) error {
	if w.sources%w.props != 0 {
		return fmt.Errorf("wave %s: %d sources are not a multiple of %d propagations", w.name, w.sources, w.props)
	}
	if err := createAll(ctx, c, w.namespaces, 32, func(i int) client.Object {
		return namespace(w.namespace(i), map[string]string{waveLabel: w.name})
	}); err != nil {
		return err
	}
	if err := c.Create(ctx, namespace(w.sourceNS(), nil)); err != nil {
		return err
	}
	return createAll(ctx, c, w.sources, 8, func(i int) client.Object {
		return secret(w.sourceNS(), w.source(i), "source", payload(w.bytes, i))
	})
}

// warmUp makes and deletes up to 10 copies, so the code that creates and deletes
// copies has run (its executable pages are resident) before the manager's memory
// is first read, and what differs afterwards is what grows with the copies.
func (w wave) warmUp(ctx context.Context, c client.Client) error {
	warm := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + w.name + "-warm-up"},
		Spec: v1alpha1.ClusterPropagationSpec{Sources: []v1alpha1.SourceReference{{APIVersion: "v1", Kind: "Secret",
			Namespace: w.sourceNS(), Name: w.source(0)}}}}
	for i := range min(10, w.namespaces) {
		warm.Spec.Targets.Namespaces = append(warm.Spec.Targets.Namespaces, v1alpha1.NamespacePattern(w.namespace(i)))
	}
	if err := c.Create(ctx, warm); err != nil {
		return err
	}
	if err := waitCopies(ctx, c, copySel, len(warm.Spec.Targets.Namespaces), time.Minute); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := c.Delete(ctx, warm); err != nil {
		return err
	}
	if err := waitCopies(ctx, c, copySel, 0, time.Minute); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// fanOut creates the wave's propagations and waits for every copy; it returns how
// long that took.
func (w wave) fanOut(ctx context.Context, c client.Client) (time.Duration, error) {
	t0 := time.Now()
	per := w.sources / w.props
	for g := range w.props {
		p := &v1alpha1.ClusterPropagation{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%s-%02d", w.name, g)},
			Spec: v1alpha1.ClusterPropagationSpec{Targets: v1alpha1.ClusterTargets{NamespaceSelector: &v1alpha1.LabelSelector{
				MatchLabels: map[string]v1alpha1.LabelValue{waveLabel: v1alpha1.LabelValue(w.name)}}}}}
		for j := range per {
			p.Spec.Sources = append(p.Spec.Sources, v1alpha1.SourceReference{APIVersion: "v1", Kind: "Secret",
				Namespace: w.sourceNS(), Name: w.source(g*per + j)})
		}
		if err := c.Create(ctx, p); err != nil {
			return 0, err
		}
	}
	err := waitCopies(ctx, c, copySel, w.copies(), scaled(w.copies(), 50*time.Millisecond, 2*time.Minute))
	return time.Since(t0), err
}

// remove deletes every propagation and waits until Courier deleted every copy; it
// returns how long that took.
func (w wave) remove(ctx context.Context, c client.Client) (time.Duration, error) {
	t0 := time.Now()
	if err := c.DeleteAllOf(ctx, &v1alpha1.ClusterPropagation{}); err != nil {
		return 0, err
	}
	err := waitCopies(ctx, c, copySel, 0, scaled(w.copies(), 50*time.Millisecond, 2*time.Minute))
	return time.Since(t0), err
}

func kib(b int) string { return fmt.Sprintf("%d KiB", b>>10) }
