package rollout

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/pkg/reconciler"
)

// Event reasons on workloads. Messages carry object names only, never data.
const (
	eventTracking          = "RolloutTracking"
	eventInputsChanged     = "RolloutInputsChanged"
	eventPending           = "RolloutPending"
	eventPaused            = "RolloutPaused"
	eventRolledOut         = "RolledOut"
	eventMissingInput      = "MissingInput"
	eventInvalidAnnotation = "InvalidAnnotation"
	eventStateContested    = "RolloutStateContested"
	eventScheduled         = "RolloutScheduled"
	eventQueued            = "RolloutQueued"
	eventTemplateElsewhere = "RolloutTemplateElsewhere"
)

// How much of an event note (reconciler.MaxEventNote) and of a log line a list of
// names may take: a workload with a thousand bad references still gets its warning,
// naming the first ones and how many more there are.
const (
	eventListBudget = reconciler.MaxEventNote - 128
	logListBudget   = 4096
)

// scope is what one reconcile of a workload needs from its caller (the DSL's State).
type scope struct {
	// Client writes the workload (server-side apply).
	Client client.Client
	// Reader reads inputs uncached (the manager's API reader).
	Reader client.Reader
	// Log carries the workload's key.
	Log logr.Logger
	// Eventf records an event on the workload.
	Eventf func(eventType, reason, format string, args ...any)
}

// syncer holds what outlives one reconcile: options, the clock, and which problems
// were already reported per workload (so events fire on transitions, not on every
// reconcile; after a restart each standing problem is reported once more). An entry
// exists only while a workload has a problem.
type syncer struct {
	opts     Options
	now      func() time.Time
	reported sync.Map // types.UID -> string (fingerprint of the reported problems)
	// recorded are the workloads (UIDs) this process stored state on; contests
	// notice another writer that keeps removing it (see recordState).
	recorded sync.Map
	// scheduled holds, per workload (UID) whose change waits for its schedule, when
	// it rolls: the RolloutScheduled event is sent when that changes.
	scheduled sync.Map
	contests  reconciler.Contests
	// uids maps each opted-in workload (kind and key) to the UID the maps above
	// know it by, so a workload deleted outright, which its reconcile finds gone
	// without a UID, or re-created under its name, leaves nothing behind (forget).
	uids sync.Map // workloadKey -> types.UID
	// cap admits rollouts under Options.MaxConcurrentRollouts.
	cap capGate
	// waiting counts the workloads whose change waits, by reason (a gauge).
	waiting *waitingSet
}

// workloadKey names a workload across kinds.
type workloadKey struct {
	kind string
	key  types.NamespacedName
}

// track records that kind/key is known by uid, forgetting what was kept for an
// earlier object of that name.
func (r *syncer) track(kind string, key types.NamespacedName, uid types.UID) {
	if prev, loaded := r.uids.Swap(workloadKey{kind, key}, uid); loaded && prev.(types.UID) != uid {
		r.forgetUID(prev.(types.UID))
	}
}

// forget drops everything kept for kind/key: it opted out or is gone.
func (r *syncer) forget(kind string, key types.NamespacedName) {
	if uid, ok := r.uids.LoadAndDelete(workloadKey{kind, key}); ok {
		r.forgetUID(uid.(types.UID))
	}
	r.waiting.set(kind, key, "")
}

// forgetUID drops what the per-UID maps keep for one workload.
func (r *syncer) forgetUID(uid types.UID) {
	r.reported.Delete(uid)
	r.recorded.Delete(uid)
	r.scheduled.Delete(uid)
	r.contests.Forget(uid)
}

func newSyncer(opts Options) *syncer {
	return &syncer{opts: opts.withDefaults(), now: time.Now, waiting: newWaitingSet(waitingWorkloads)}
}

// syncWorkload reconciles one workload of kind k: observe its inputs, decide, store the
// decision with one apply if it changed anything, and report. It returns
// reconciler.Waiting while a change waits for the coalescing window.
func syncWorkload[T client.Object](ctx context.Context, r *syncer, k workloadKind[T], obj T, sc scope) error {
	if !optedIn(obj) || !obj.GetDeletionTimestamp().IsZero() {
		// Opted out (or going away): leave the workload exactly as it is.
		r.forget(k.name, client.ObjectKeyFromObject(obj))
		return nil
	}
	r.track(k.name, client.ObjectKeyFromObject(obj), obj.GetUID())
	log := sc.Log.WithValues("kind", k.name)
	if k.templateElsewhere != nil {
		if owner := k.templateElsewhere(obj); owner != "" {
			r.reportElsewhere(obj, owner, sc, log)
			r.waiting.set(k.name, client.ObjectKeyFromObject(obj), "")
			return nil
		}
	}

	now := r.now()
	ev, err := evaluate(ctx, r, k, obj, sc.Reader, now)
	if err != nil {
		return err
	}
	obs, pl, cur, d := ev.obs, ev.placement, ev.cur, ev.decision
	r.reportProblems(k.name, obj, ev.problems, obs.MissingRequired, sc, log)
	d.Next.JobDue = jobDue(k, obj, cur, d)

	if d.Action == actRollout {
		// Roll only from the workload as it is now, not from a cache that may not have
		// seen our own previous rollout yet: one GET per rollout, so a stale read can
		// never count (or announce) one change twice.
		latest := k.New()
		if err := sc.Reader.Get(ctx, client.ObjectKeyFromObject(obj), latest); err != nil {
			return client.IgnoreNotFound(err)
		}
		if latest.GetResourceVersion() != obj.GetResourceVersion() {
			return reconciler.Waiting(time.Second, "StaleCache", "the cached workload is behind the API server; retrying")
		}
	}
	store := func() error { return recordState(ctx, r, k, obj, pl, d.Action, d.Next, sc, log) }
	if d.Action == actRollout && r.opts.MaxConcurrentRollouts > 0 && k.finished != nil {
		since := now
		if cur.Pending != nil {
			since = cur.Pending.Since
		}
		a, err := r.cap.admit(ctx, now, r.opts.MaxConcurrentRollouts, obj.GetUID(),
			k.name+"/"+obj.GetNamespace()+"/"+obj.GetName(), since, store)
		if err != nil {
			return err
		}
		if !a.rolled {
			r.waiting.set(k.name, client.ObjectKeyFromObject(obj), waitQueued)
			return r.reportQueued(k.name, d, a, sc, log)
		}
		store = func() error { return nil } // stored by the gate
	}
	if !sameRecord(cur, d.Next) {
		if err := store(); err != nil {
			return err
		}
		decisions.WithLabelValues(k.name, d.Action.String()).Inc()
	} else if d.Action == actHold {
		decisions.WithLabelValues(k.name, d.Action.String()).Inc()
	}
	if d.Next.JobDue != "" {
		if err := startDueJob(ctx, k, obj, pl, d.Next, sc, log); err != nil {
			return err
		}
	}
	r.waiting.set(k.name, client.ObjectKeyFromObject(obj), waitReason(d.Action))
	return r.report(k.name, obj.GetUID(), cur, obs, d, sc, log)
}

// recordState stores next, the state decided by act, on the workload. A baseline
// of a workload this process already stored state on means someone removed that
// state (a tool that replaces the whole object, say): such rewrites count towards a
// contest, and while one lasts the state is stored again only as Contests allow,
// instead of once per removal.
func recordState[T client.Object](ctx context.Context, r *syncer, k workloadKind[T], obj T, pl placement, act action, next record, sc scope, log logr.Logger) error {
	uid := obj.GetUID()
	_, before := r.recorded.Load(uid)
	contested := before && act == actBaseline
	if contested {
		a := r.contests.Admit(uid, obj.GetResourceVersion())
		if a.Started {
			a.Writer = reconciler.OtherWriter(ctx, sc.Reader, k.gvk, client.ObjectKeyFromObject(obj), FieldManager)
			r.contests.SetWriter(uid, a.Writer)
			log.Info("another writer keeps removing the rollout state; storing it again backs off", "writer", a.Writer, "removals", a.Repairs)
			sc.Eventf(corev1.EventTypeWarning, eventStateContested, "The rollout state Courier stores on the workload keeps being removed (by %s); it is stored again in %s",
				a.WriterOrAnother(), a.Wait.Round(time.Millisecond))
		}
		if !a.Write {
			return reconciler.Waiting(a.Wait, eventStateContested, "the rollout state keeps being removed by %s; stored again in %s", a.WriterOrAnother(), a.Wait.Round(time.Millisecond))
		}
	}
	if err := applyRecord(ctx, sc.Client, pl, obj, next); err != nil {
		return fmt.Errorf("applying rollout state (%s): %w", act, err)
	}
	r.recorded.Store(uid, struct{}{})
	if contested {
		r.contests.Repaired(uid)
	}
	return nil
}

// report turns a decision into events, metrics, logs and the reconcile outcome.
func (r *syncer) report(kind string, uid types.UID, cur record, obs observation, d decision, sc scope, log logr.Logger) error {
	changed := strings.Join(d.Changed, ", ")
	if d.Action != actScheduled {
		r.scheduled.Delete(uid)
	}
	switch d.Action {
	case actBaseline:
		log.Info("tracking inputs; opting in rolls nothing", "inputs", len(obs.Digests), "hash", shortDigest(obs.Hash))
		sc.Eventf(corev1.EventTypeNormal, eventTracking, "Tracking %d input(s); opting in does not roll the workload", len(obs.Digests))
	case actRebaseline:
		log.Info("the set of inputs changed, no input content did; recorded without rolling", "inputs", len(obs.Digests), "hash", shortDigest(obs.Hash))
		sc.Eventf(corev1.EventTypeNormal, eventInputsChanged, "Now tracking %d input(s); no content changed, nothing rolled", len(obs.Digests))
	case actHold:
		log.V(1).Info("inputs changed but a required input is missing; not rolling", "changed", d.Changed, "missing", obs.MissingRequired)
	case actWait:
		if d.NewChange {
			log.Info("input change observed; waiting for the coalescing window", "changed", d.Changed, "after", d.RequeueAfter)
			sc.Eventf(corev1.EventTypeNormal, eventPending, "%s changed; rolling out after %s without further changes", changed, d.RequeueAfter.Round(time.Millisecond))
		}
		return reconciler.Waiting(d.RequeueAfter, waitCoalescing, "%s changed; rolling out in %s", changed, d.RequeueAfter.Round(time.Millisecond))
	case actPaused:
		if d.NewChange {
			log.Info("input change observed while paused; will roll once when unpaused", "changed", d.Changed)
			sc.Eventf(corev1.EventTypeNormal, eventPaused, "%s changed; rollouts are paused (%s), the change rolls out once when unpaused", changed, AnnotationPaused)
		}
	case actRollout:
		reason := rolloutReason(cur.AppliedRefs, obs.refDigests(), d.Changed)
		rolloutsTotal.WithLabelValues(kind, reason).Inc()
		rolloutDelay.WithLabelValues(kind).Observe(d.Delay.Seconds())
		log.Info("rolled out", "changed", d.Changed, "reason", reason, "hash", shortDigest(obs.Hash), "delay", d.Delay)
		sc.Eventf(corev1.EventTypeNormal, eventRolledOut, "%s changed", changed)
	case actScheduled:
		at := d.RollsAt.UTC().Format(time.RFC3339)
		if prev, ok := r.scheduled.Load(uid); !ok || prev.(string) != at {
			r.scheduled.Store(uid, at)
			log.Info("input change waits for the workload's schedule", "changed", d.Changed, "rollsAt", at)
			sc.Eventf(corev1.EventTypeNormal, eventScheduled, "%s changed; the schedule lets it roll out at %s", changed, at)
		}
		return reconciler.Waiting(d.RequeueAfter, waitSchedule, "%s changed; rolling out at %s (its windows or minimum interval)", changed, at)
	case actAlreadyRolled:
		log.V(1).Info("template already carries the new hash; recorded", "hash", shortDigest(obs.Hash))
	}
	return nil
}

// reportQueued reports a rollout waiting for a slot under the cap: an event when
// it starts waiting, and the Waiting outcome that looks again in queueRetry.
func (r *syncer) reportQueued(kind string, d decision, a admission, sc scope, log logr.Logger) error {
	changed := strings.Join(d.Changed, ", ")
	if a.joined {
		log.Info("input change waits for a rollout slot", "changed", d.Changed, "place", a.place, "waiting", a.waiting, "cap", r.opts.MaxConcurrentRollouts)
		sc.Eventf(corev1.EventTypeNormal, eventQueued, "%s changed; waiting for one of the %d rollout slots (place %d of %d)",
			changed, r.opts.MaxConcurrentRollouts, a.place, a.waiting)
		decisions.WithLabelValues(kind, "queued").Inc()
	}
	return reconciler.Waiting(queueRetry, waitQueued, "%s changed; place %d of %d waiting for a rollout slot (at most %d at once)",
		changed, a.place, a.waiting, r.opts.MaxConcurrentRollouts)
}

// reportElsewhere tells, once per owner, that obj's pod template lives in owner
// (kind/name), which is what must opt in: obj itself is left alone.
func (r *syncer) reportElsewhere(obj client.Object, owner string, sc scope, log logr.Logger) {
	fp := "elsewhere:" + owner
	if prev, ok := r.reported.Load(obj.GetUID()); ok && prev.(string) == fp {
		return
	}
	r.reported.Store(obj.GetUID(), fp)
	log.Info("the pod template is in another object; opt that one in instead", "templateFrom", owner)
	sc.Eventf(corev1.EventTypeWarning, eventTemplateElsewhere,
		"The pod template is in %s (spec.workloadRef): label %s with %s=true; Courier's template change there is a new revision of this workload, and this one is left alone",
		owner, owner, LabelOptIn)
}

// reportProblems emits a Warning event, a log line and a metric when a workload's
// standing problems (invalid annotation entries, missing required inputs) change.
// Problems never fail the reconcile: valid inputs are still tracked.
func (r *syncer) reportProblems(kind string, obj client.Object, annErr error, missing []string, sc scope, log logr.Logger) {
	var fp strings.Builder
	if annErr != nil {
		fp.WriteString(annErr.Error())
	}
	fp.WriteString("|" + strings.Join(missing, ","))
	uid := obj.GetUID()
	if prev, ok := r.reported.Load(uid); ok && prev.(string) == fp.String() {
		return
	}
	if fp.String() == "|" {
		r.reported.Delete(uid)
		return
	}
	r.reported.Store(uid, fp.String())
	if annErr != nil {
		invalid := strings.Split(annErr.Error(), "\n") // errors.Join: one line per entry
		log.Info("invalid rollout annotation entries are ignored", "count", len(invalid), "entries", reconciler.BoundedList(invalid, logListBudget))
		sc.Eventf(corev1.EventTypeWarning, eventInvalidAnnotation, "Ignoring %d invalid entries: %s", len(invalid), reconciler.BoundedList(invalid, eventListBudget))
	}
	if len(missing) > 0 {
		missingInputs.WithLabelValues(kind).Inc()
		log.Info("required inputs do not exist; rollouts wait for them", "count", len(missing), "missing", reconciler.BoundedList(missing, logListBudget))
		sc.Eventf(corev1.EventTypeWarning, eventMissingInput, "Required input(s) not found: %s; no rollout until they exist",
			reconciler.BoundedList(missing, eventListBudget))
	}
}
