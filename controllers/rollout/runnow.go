package rollout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A CronJob that rolls runs its next scheduled Job with the new configuration. With
// AnnotationRunNow it also starts one Job now. Exactly once per change, across
// restarts and replicas:
//   - the rollout records the Job's name as due (AnnotationJobDue) in the same apply
//     that sets the new template hash, so a crash after the rollout cannot lose it;
//   - the name is derived from the change (jobName), so every replica and every
//     retry creates the same Job, and the API server refuses a second one;
//   - once the Job exists (created now or found), the due name is removed, so a Job
//     deleted later (history limits, TTL) is not started again.

// Event reason on a CronJob that started a Job for a change.
const eventJobStarted = "RolloutJobStarted"

// instantiateAnnotation marks a Job started by hand from a CronJob, as kubectl
// create job --from=cronjob/NAME does.
const instantiateAnnotation = "cronjob.kubernetes.io/instantiate"

// runNow reports whether a workload asks for a Job now when it rolls.
func runNow(obj client.Object) bool { return obj.GetAnnotations()[AnnotationRunNow] == "true" }

// jobDue returns the Job the state about to be stored names as due: the one a
// rollout of a CronJob with AnnotationRunNow decides to start, else the one already
// due. Kinds without a Job template start none.
func jobDue[T client.Object](k workloadKind[T], obj T, cur record, d decision) string {
	if k.jobTemplate == nil {
		return ""
	}
	if d.Action == actRollout && runNow(obj) {
		var since time.Time
		if cur.Pending != nil {
			since = cur.Pending.Since // stored on the workload: every replica reads the same
		}
		return jobName(obj.GetName(), d.Next.TemplateHash, since)
	}
	return cur.JobDue
}

// maxCronJobName is the longest name the API server accepts for a CronJob (its
// Jobs get an 11-character suffix and must fit a label value).
const maxCronJobName = 52

// jobName is the name of the Job started for one change of a CronJob: its name and
// ten hex digits of the change (the new input hash and when the change was first
// seen, so the same hash reached again later is another change), at most 63
// characters.
func jobName(cronJob, hash string, since time.Time) string {
	sum := sha256.Sum256([]byte(hash + "@" + since.UTC().Format(time.RFC3339Nano)))
	if len(cronJob) > maxCronJobName {
		cronJob = cronJob[:maxCronJobName]
	}
	return cronJob + "-" + hex.EncodeToString(sum[:5])
}

// startDueJob starts the Job next names as due, from the workload's current Job
// template (read live: the cache may not have the rollout yet), unless it exists
// or AnnotationRunNow was removed since; then it records that nothing is due.
func startDueJob[T client.Object](ctx context.Context, k workloadKind[T], obj T, pl placement, next record, sc scope, log logr.Logger) error {
	if runNow(obj) {
		live := k.New()
		if err := sc.Reader.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
			return client.IgnoreNotFound(err)
		}
		job := newJob(k.gvk, live, k.jobTemplate(live), next.JobDue, next.TemplateHash)
		switch err := sc.Client.Create(ctx, job); {
		case err == nil:
			jobsStarted.WithLabelValues(k.name).Inc()
			log.Info("started a Job with the new configuration", "job", job.Name)
			sc.Eventf(corev1.EventTypeNormal, eventJobStarted, "Started Job %s with the new configuration", job.Name)
		case apierrors.IsAlreadyExists(err):
			// Started by an earlier attempt of this change, or by another replica.
		default:
			return fmt.Errorf("starting Job %s: %w", job.Name, err)
		}
	}
	done := next
	done.JobDue = ""
	if err := applyRecord(ctx, sc.Client, pl, obj, done); err != nil {
		return fmt.Errorf("recording Job %s as started: %w", next.JobDue, err)
	}
	return nil
}

// newJob is the Job a CronJob owner (of kind gvk) would schedule from tmpl, named
// name, its pods carrying the configuration hash; it is owned by the CronJob (so
// it is listed and cleaned up with its Jobs) and marked as started by hand.
func newJob(gvk schema.GroupVersionKind, owner client.Object, tmpl *batchv1.JobTemplateSpec, name, hash string) *batchv1.Job {
	annotations := maps.Clone(tmpl.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[instantiateAnnotation] = "manual"
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   owner.GetNamespace(),
			Labels:      maps.Clone(tmpl.Labels),
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: ptr.To(true),
			}},
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if hash != "" {
		if job.Spec.Template.Annotations == nil {
			job.Spec.Template.Annotations = map[string]string{}
		}
		job.Spec.Template.Annotations[AnnotationConfigHash] = hash
	}
	return job
}
