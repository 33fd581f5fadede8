package rollout

import (
	"maps"
	"slices"
	"time"

	"github.com/courier-operator/courier/internal/schedule"
)

// observation is what one reconcile saw of a workload's inputs.
type observation struct {
	// Hash is the combined hash of every input (contenthash.Combine).
	Hash string
	// Digests maps each input ("configmap/a") to its full digest, or Absent.
	Digests map[string]string
	// MissingRequired lists the required inputs that do not exist, sorted.
	MissingRequired []string
}

// refDigests returns the per-input record for the observation.
func (o observation) refDigests() map[string]string {
	out := make(map[string]string, len(o.Digests))
	for k, d := range o.Digests {
		out[k] = shortDigest(d)
	}
	return out
}

// action is what a reconcile does to a workload.
type action int

const (
	// actNone: inputs match the applied hash; nothing to do (beyond dropping a
	// pending change that was reverted).
	actNone action = iota
	// actBaseline: first sight (opt-in): record the hash, leave the template alone.
	actBaseline
	// actRebaseline: only the set of inputs changed (the template or the
	// extra/exclude annotations were edited), no input's content did: record the new
	// hash without rolling. A template edit rolls the pods by itself.
	actRebaseline
	// actHold: a required input is missing; rolling now would start pods that cannot
	// run, so wait for it to come back.
	actHold
	// actWait: a change is pending inside the coalescing window.
	actWait
	// actPaused: a change is pending but the workload's rollouts are paused.
	actPaused
	// actRollout: set the template annotation, which rolls the workload once.
	actRollout
	// actAlreadyRolled: the template already carries the new hash (a stale read of
	// our own earlier rollout): record it, do not count it again.
	actAlreadyRolled
	// actScheduled: a change would roll now, but the workload's schedule (its
	// windows, its minimum interval) allows it only later: it stays pending.
	actScheduled
)

var actionNames = map[action]string{
	actNone: "none", actBaseline: "baseline", actRebaseline: "rebaseline", actHold: "hold",
	actWait: "wait", actPaused: "paused", actRollout: "rollout", actAlreadyRolled: "already-rolled",
	actScheduled: "scheduled",
}

func (a action) String() string { return actionNames[a] }

// decision is the outcome of decide.
type decision struct {
	Action action
	// Next is the state to store on the workload; the caller writes it only if it
	// differs from what is stored.
	Next record
	// RequeueAfter is how long to wait before looking again (actWait, actScheduled).
	RequeueAfter time.Duration
	// RollsAt is when the schedule lets the pending change roll (actScheduled).
	RollsAt time.Time
	// Changed lists the inputs whose content changed since the applied hash, sorted
	// (names only, for events and logs).
	Changed []string
	// NewChange is true when this reconcile observed a change not yet pending.
	NewChange bool
	// Delay is the time from the first observed change to the rollout (actRollout).
	Delay time.Duration
}

// policy is when a workload's changes roll.
type policy struct {
	// Window: a change rolls once the inputs have been quiet for this long...
	Window time.Duration
	// MaxDelay: ...or a burst of changes has lasted this long.
	MaxDelay time.Duration
	// Windows are the times a rollout may happen (none: any time).
	Windows schedule.Windows
	// MinInterval is the least time between two rollouts (zero: none).
	MinInterval time.Duration
}

// decide is the whole rollout policy, as a pure function of the stored record, the
// observed inputs, the pause flag, the policy and the clock.
//
// It never rolls on first sight, never rolls when the content of every input that was
// already consumed is unchanged, never rolls while a required input is missing or
// rollouts are paused, and rolls once the inputs have been quiet for p.Window (or a
// burst has lasted p.MaxDelay) and the schedule allows it (inside p.Windows, at
// least p.MinInterval after the last rollout).
func decide(cur record, obs observation, paused bool, now time.Time, p policy) decision {
	applied := func(template string) record {
		return record{AppliedHash: obs.Hash, AppliedRefs: obs.refDigests(), TemplateHash: template, LastRollout: cur.LastRollout}
	}
	switch {
	case cur.AppliedHash == "":
		return decision{Action: actBaseline, Next: applied(cur.TemplateHash)}
	case obs.Hash == cur.AppliedHash:
		// Unchanged, or changed and reverted before rolling: drop any pending change.
		return decision{Action: actNone, Next: applied(cur.TemplateHash)}
	}

	changed := changedInputs(cur.AppliedRefs, obs.Digests)
	if len(changed) == 0 {
		return decision{Action: actRebaseline, Next: applied(cur.TemplateHash)}
	}
	if len(obs.MissingRequired) > 0 {
		return decision{Action: actHold, Next: cur, Changed: changed}
	}

	next := cur
	pend := pending{Hash: obs.Hash, Since: now, Last: now}
	newChange := cur.Pending == nil || cur.Pending.Hash != obs.Hash
	if cur.Pending != nil {
		pend.Since = clampToNow(cur.Pending.Since, now)
		if !newChange {
			pend.Last = clampToNow(cur.Pending.Last, now)
		}
	}
	next.Pending = &pend
	d := decision{Next: next, Changed: changed, NewChange: newChange}

	if paused {
		d.Action = actPaused
		return d
	}
	deadline := pend.Last.Add(p.Window)
	if limit := pend.Since.Add(p.MaxDelay); limit.Before(deadline) {
		deadline = limit
	}
	if now.Before(deadline) {
		d.Action, d.RequeueAfter = actWait, deadline.Sub(now)
		return d
	}
	if cur.TemplateHash == obs.Hash {
		return decision{Action: actAlreadyRolled, Next: applied(obs.Hash), Changed: changed}
	}
	if at, ok := schedule.Earliest(now, p.Windows, clampToNow(cur.LastRollout, now), p.MinInterval); !ok || at.After(now) {
		d.Action, d.RollsAt, d.RequeueAfter = actScheduled, at, at.Sub(now)
		if !ok {
			d.RequeueAfter = time.Hour // no window ever opens: look again later
		}
		return d
	}
	rolled := applied(obs.Hash)
	rolled.LastRollout = now
	return decision{Action: actRollout, Next: rolled, Changed: changed, Delay: now.Sub(pend.Since)}
}

// changedInputs lists the inputs present both in the applied record and now whose
// digest differs. Inputs that were added or removed are not content changes.
func changedInputs(applied map[string]string, now map[string]string) []string {
	var out []string
	for k, d := range now {
		if old, ok := applied[k]; ok && old != shortDigest(d) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// clampToNow guards against timestamps from the future (another replica's clock).
func clampToNow(t, now time.Time) time.Time {
	if t.After(now) {
		return now
	}
	return t
}

// sameRecord reports whether storing next would change nothing.
func sameRecord(a, b record) bool {
	return maps.Equal(a.metaAnnotations(), b.metaAnnotations()) && a.TemplateHash == b.TemplateHash
}
