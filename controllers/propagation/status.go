package propagation

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// status is the Status hook: sum up what the copy steps did into status, the
// targets metric and the Synced and Conflict events. When no plan was made (the
// sources could not be read) the counts are left as they were.
func (c *copySets[T]) status(_ context.Context, s *reconciler.State[T]) {
	if _, ok := c.planned.Get(s); !ok {
		return
	}
	v := c.v.view(s.Object)
	var t tally
	for _, r := range []func(*reconciler.State[T]) (reconciler.ChildReport, bool){c.secrets.Report, c.configMaps.Report, c.others.Report} {
		if report, ran := r(s); ran {
			t.add(report)
		}
	}
	previousConflicts := v.status.Conflicting
	t.apply(v.status, time.Now())
	t.observe(v.metricName)
	if t.wrote() {
		s.Eventf("Normal", "Synced", "%s", t.summary())
	}
	if t.conflicting > 0 && int32(t.conflicting) != previousConflicts {
		s.Eventf("Warning", "Conflict", "%d target(s) hold an object Courier does not manage (conflictPolicy %s)", t.conflicting, v.conflictPolicy)
	}
}

// tally sums the ChildSet reports of one reconcile.
type tally struct {
	desired, synced, conflicting, failed int
	created, updated, deleted, orphaned  int
	failures                             []v1alpha1.TargetFailure
}

func (t *tally) add(r reconciler.ChildReport) {
	t.desired += r.Desired
	t.synced += r.Synced()
	t.conflicting += r.Count(reconciler.ChildConflict)
	t.failed += r.Count(reconciler.ChildFailed) + r.Count(reconciler.ChildContested)
	t.created += r.Count(reconciler.ChildCreated)
	t.updated += r.Count(reconciler.ChildUpdated)
	t.deleted += r.Count(reconciler.ChildDeleted)
	t.orphaned += r.Count(reconciler.ChildOrphaned)
	for _, o := range r.Outcomes {
		if o.Action != reconciler.ChildConflict && o.Action != reconciler.ChildFailed && o.Action != reconciler.ChildContested {
			continue
		}
		if len(t.failures) >= v1alpha1.MaxReportedFailures {
			continue
		}
		reason := o.Reason
		if reason == "" {
			reason = string(o.Action)
		}
		t.failures = append(t.failures, v1alpha1.TargetFailure{
			Namespace: o.Key.Namespace, Name: o.Key.Name, Reason: reason, Message: reconciler.Bound(o.Message, maxFailureMessage),
		})
	}
}

// maxFailureMessage is status.failures[].message's maxLength.
const maxFailureMessage = 1024

// wrote reports whether this reconcile changed any copy.
func (t *tally) wrote() bool { return t.created+t.updated+t.deleted+t.orphaned > 0 }

// apply writes the tally into status. lastSyncTime moves only when something was
// written, so a steady-state reconcile leaves status byte-identical and the DSL
// skips the status write.
func (t *tally) apply(st *v1alpha1.PropagationStatus, now time.Time) {
	st.Desired = int32(t.desired)
	st.Synced = int32(t.synced)
	st.Conflicting = int32(t.conflicting)
	st.Failed = int32(t.failed)
	st.Failures = t.failures
	if t.wrote() {
		ts := metav1.NewTime(now.Truncate(time.Second))
		st.LastSyncTime = &ts
	}
}

func (t *tally) observe(metricName string) {
	targetsGauge.WithLabelValues(metricName, "desired").Set(float64(t.desired))
	targetsGauge.WithLabelValues(metricName, "synced").Set(float64(t.synced))
	targetsGauge.WithLabelValues(metricName, "conflicting").Set(float64(t.conflicting))
	targetsGauge.WithLabelValues(metricName, "failed").Set(float64(t.failed))
}

func (t *tally) summary() string {
	return fmt.Sprintf("%d created, %d updated, %d deleted, %d orphaned; %d of %d copies in sync",
		t.created, t.updated, t.deleted, t.orphaned, t.synced, t.desired)
}
