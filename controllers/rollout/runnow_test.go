package rollout

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestJobNameIsTheChangesAndFitsALabel(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	a := jobName("report", "sha256:aaa", t0)
	if a != jobName("report", "sha256:aaa", t0.In(time.FixedZone("x", 3600))) {
		t.Error("the same change (one instant in another zone) must give the same name")
	}
	if !strings.HasPrefix(a, "report-") || len(a) != len("report-")+10 {
		t.Errorf("jobName = %q, want report- and ten hex digits", a)
	}
	for _, other := range []string{jobName("report", "sha256:bbb", t0), jobName("report", "sha256:aaa", t0.Add(time.Nanosecond))} {
		if other == a {
			t.Errorf("another change got the same name %q", a)
		}
	}
	long := jobName(strings.Repeat("c", maxCronJobName), "h", t0)
	if len(long) != 63 || len(validation.IsDNS1123Label(long)) != 0 {
		t.Errorf("jobName of a %d-character CronJob = %q (%d characters), want a valid 63-character name", maxCronJobName, long, len(long))
	}
}

func TestNewJobIsTheCronJobsOwnJobWithTheHash(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "report", UID: "u-1"}}
	cj.Spec.JobTemplate.Labels = map[string]string{"team": "a"}
	cj.Spec.JobTemplate.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}
	job := newJob(cronJobs.gvk, cj, &cj.Spec.JobTemplate, "report-0123456789", "sha256:new")

	if job.Namespace != "ns" || job.Name != "report-0123456789" || job.Labels["team"] != "a" {
		t.Errorf("job meta = %+v", job.ObjectMeta)
	}
	if job.Annotations[instantiateAnnotation] != "manual" || job.Spec.Template.Annotations[AnnotationConfigHash] != "sha256:new" {
		t.Errorf("annotations = %v, template annotations = %v", job.Annotations, job.Spec.Template.Annotations)
	}
	if len(job.OwnerReferences) != 1 || job.OwnerReferences[0].UID != "u-1" || job.OwnerReferences[0].Kind != "CronJob" || !*job.OwnerReferences[0].Controller {
		t.Errorf("owner = %+v", job.OwnerReferences)
	}
	if cj.Spec.JobTemplate.Annotations != nil || cj.Spec.JobTemplate.Spec.Template.Annotations != nil {
		t.Error("newJob wrote into the CronJob's template")
	}
}

func TestJobDueOnlyForARolloutThatRunsNow(t *testing.T) {
	since := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	cur := record{AppliedHash: "old", Pending: &pending{Hash: "new", Since: since, Last: since}}
	rollout := decision{Action: actRollout, Next: record{AppliedHash: "new", TemplateHash: "new"}}
	runs := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "report", Annotations: map[string]string{AnnotationRunNow: "true"}}}
	waits := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "report"}}

	if got, want := jobDue(cronJobs, runs, cur, rollout), jobName("report", "new", since); got != want {
		t.Errorf("rollout with run-now: due %q, want %q", got, want)
	}
	if got := jobDue(cronJobs, waits, cur, rollout); got != "" {
		t.Errorf("rollout without run-now: due %q", got)
	}
	cur.JobDue = "report-due"
	if got := jobDue(cronJobs, runs, cur, decision{Action: actNone}); got != "report-due" {
		t.Errorf("a due Job is kept until it exists: %q", got)
	}
	if got := jobDue(deployments, nil, cur, rollout); got != "" {
		t.Errorf("a Deployment starts no Job: %q", got)
	}
}
