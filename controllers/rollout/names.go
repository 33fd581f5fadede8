package rollout

import "github.com/courier-operator/courier/api/v1alpha1"

// Labels and annotations of rollout on change. They are part of Courier's public
// contract (docs/rollout.md).
const (
	// LabelOptIn opts a workload in when set to "true"; the manager caches only
	// workloads carrying it.
	LabelOptIn = v1alpha1.LabelRolloutOnChange

	// AnnotationConfigHash is the pod-template annotation set on rollout. Changing
	// it is what makes the workload controller roll the pods.
	AnnotationConfigHash = v1alpha1.AnnotationConfigHash

	// AnnotationExtraRefs lists more inputs ("configmap/a,secret/b") the workload
	// consumes without referencing them in its pod template.
	AnnotationExtraRefs = "courier.dev/rollout-extra-refs"
	// AnnotationExcludeRefs lists referenced inputs whose changes must not roll the
	// workload.
	AnnotationExcludeRefs = "courier.dev/rollout-exclude-refs"
	// AnnotationPaused pauses rollouts of the workload when "true". Changes are still
	// tracked; a change pending when the pause ends rolls once.
	AnnotationPaused = "courier.dev/rollout-paused"

	// AnnotationAppliedHash records the input hash last applied (or recorded as the
	// baseline when the workload was first seen).
	AnnotationAppliedHash = "courier.dev/applied-config-hash"
	// AnnotationAppliedRefs records, for the applied hash, a short digest per input
	// ("configmap/a=0123456789ab,secret/b=absent"), so the controller can name what
	// changed and tell a content change from a change of the set of inputs.
	AnnotationAppliedRefs = "courier.dev/applied-config-refs"
	// AnnotationPendingHash is the input hash waiting for the coalescing window.
	AnnotationPendingHash = "courier.dev/pending-config-hash"
	// AnnotationPendingSince is when the first change of the pending burst was
	// observed (RFC 3339); the rollout delay metric is measured from it.
	AnnotationPendingSince = "courier.dev/pending-since"
	// AnnotationPendingLast is when the latest change of the pending burst was
	// observed (RFC 3339); the window runs from it.
	AnnotationPendingLast = "courier.dev/pending-last-change"

	// AnnotationOnKeys, "true", rolls a workload only when a key it reads changes: of
	// an input it reads only named keys of (env configMapKeyRef/secretKeyRef, volume
	// items), only those keys count; an input it reads as a whole (envFrom, a
	// volume without items, rollout-extra-refs) still counts as a whole.
	AnnotationOnKeys = "courier.dev/rollout-on-keys"

	// AnnotationWindows limits a workload's rollouts to weekly windows, e.g.
	// "Mon-Fri 22:00-06:00 Europe/Berlin; Sat,Sun 00:00-24:00" (internal/schedule):
	// a change outside them stays pending and rolls once when one opens. It
	// overrides Options.Windows; "*" or an empty value is no restriction.
	AnnotationWindows = "courier.dev/rollout-windows"
	// AnnotationMinInterval is the least time between two rollouts of a workload
	// (a Go duration, "30m"); a change sooner stays pending. It overrides
	// Options.MinInterval; "0" is none.
	AnnotationMinInterval = "courier.dev/rollout-min-interval"
	// AnnotationLastRollout records when Courier last rolled the workload (RFC 3339).
	AnnotationLastRollout = "courier.dev/last-rollout"

	// AnnotationStrategy chooses how a workload of a kind that can restart without a
	// template change (an Argo Rollout) rolls: "template" (the default: the pod
	// template's courier.dev/config-hash changes, a new revision, so canary or
	// blue-green steps and analysis run) or "restart" (the kind's restart field,
	// spec.restartAt: pods are replaced, no new revision).
	AnnotationStrategy = "courier.dev/rollout-strategy"

	// AnnotationRunNow, "true" on a CronJob, also starts one Job from its new template
	// when it rolls, instead of waiting for its schedule. The Job is named after the
	// change (JobName), so it is started once per change, whatever restarts or
	// replicas do.
	AnnotationRunNow = "courier.dev/rollout-run-now"
	// AnnotationJobDue names the Job a rollout decided to start and that is not known
	// to exist yet: recorded with the rollout, removed once the Job exists, so a
	// restart in between starts it (or finds it) rather than forgets it.
	AnnotationJobDue = "courier.dev/rollout-job-due"

	// FieldManager is the server-side apply field manager of this controller. It is
	// distinct from the propagation controller's so the two never share fields.
	FieldManager = "courier-rollout"
)
