package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/contenthash"
)

// Explanation is what the rollout controller makes of one workload at a moment, in
// names and short digests only (never content): what kubectl-courier prints. It is
// computed by the controller's own evaluation of the workload, not by a second copy
// of its rules.
type Explanation struct {
	// Kind is the workload's kind as the controller names it ("Deployment",
	// "Rollout.argoproj.io").
	Kind string `json:"kind"`
	// Namespace and Name are the workload's.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// OptedIn is whether the workload carries the opt-in label; nothing else is
	// set when it does not.
	OptedIn bool `json:"optedIn"`
	// TemplateIn names the object that holds the workload's pod template when it is
	// not the workload itself (an Argo Rollout's workloadRef, "Deployment/web"):
	// that object is what must opt in, and nothing else is set.
	TemplateIn string `json:"templateIn,omitempty"`
	// Inputs are the ConfigMaps and Secrets the workload consumes, sorted.
	Inputs []Input `json:"inputs,omitempty"`
	// AppliedHash is the input hash last rolled out or recorded (short); empty
	// before the controller first saw the workload.
	AppliedHash string `json:"appliedHash,omitempty"`
	// Pending is the change the controller recorded as waiting, if any.
	Pending *PendingChange `json:"pending,omitempty"`
	// LastRollout is when Courier last rolled the workload, if ever.
	LastRollout *time.Time `json:"lastRollout,omitempty"`
	// Action is what the controller does with the workload now: "none" (up to
	// date), "baseline" (first sight: records, rolls nothing), "rebaseline" (only the
	// set of inputs changed: records, rolls nothing), "hold" (a required input is
	// missing), "wait" (coalescing window), "paused", "scheduled" (outside its
	// windows or minimum interval), "rollout", "already-rolled".
	Action string `json:"action"`
	// Waiting is why a change has not rolled yet: MissingInput, CoalescingChanges,
	// Paused, OutsideSchedule, or RolloutQueued (due, but as many workloads as
	// Options.MaxConcurrentRollouts are rolling, counted as the manager counts
	// them); empty when nothing waits.
	Waiting string `json:"waiting,omitempty"`
	// RollsAt is when the schedule lets a waiting change roll (Action "scheduled").
	RollsAt *time.Time `json:"rollsAt,omitempty"`
	// Changed are the inputs whose content changed since the applied hash.
	Changed []string `json:"changed,omitempty"`
	// Missing are the required inputs that do not exist.
	Missing []string `json:"missing,omitempty"`
	// Problems are invalid annotation entries, which the controller ignores.
	Problems []string `json:"problems,omitempty"`
	// Paused is whether the workload's rollouts are paused (AnnotationPaused).
	Paused bool `json:"paused,omitempty"`
	// Windows are the weekly windows its rollouts happen in (empty: any time), and
	// MinInterval the least time between two of them (zero: none): the
	// workload's own annotations, or the options'.
	Windows     string `json:"windows,omitempty"`
	MinInterval string `json:"minInterval,omitempty"`
}

// Input is one ConfigMap or Secret a workload consumes.
type Input struct {
	// Ref is "configmap/<name>" or "secret/<name>".
	Ref string `json:"ref"`
	// Keys are the keys the workload reads, when it reads named keys only.
	Keys []string `json:"keys,omitempty"`
	// Optional is true when the workload runs without it.
	Optional bool `json:"optional,omitempty"`
	// Exists is whether the object exists.
	Exists bool `json:"exists"`
}

// PendingChange is a change recorded on a workload that has not rolled yet.
type PendingChange struct {
	// Hash is the input hash it rolls to (short).
	Hash string `json:"hash"`
	// Since is when its first change was observed; LastChange its latest.
	Since      time.Time `json:"since"`
	LastChange time.Time `json:"lastChange"`
}

// Explainer explains workloads as a rollout controller with the given options
// would decide for them. The manager's options (its --rollout-windows, say) are
// not known outside it: pass the same ones to explain what it does.
type Explainer struct {
	s *syncer
	// rolling is how many workloads roll under the cap, counted once (the first
	// time a due change of a capped kind needs it); -1 until then.
	rolling int
}

// NewExplainer returns an Explainer deciding with opts (defaults filled in).
func NewExplainer(opts Options) *Explainer { return &Explainer{s: newSyncer(opts), rolling: -1} }

// Kinds are the workload kinds Explain understands: the built-in ones (typed
// objects), Argo Rollouts and the options' custom kinds (unstructured objects).
func (e *Explainer) Kinds() []schema.GroupVersionKind {
	out := slices.Clone(builtInKinds)
	for _, c := range e.s.opts.CustomKinds {
		out = append(out, c.GVK)
	}
	return out
}

// customKinds are the kinds read as unstructured objects: Argo Rollouts and the
// options' declared kinds, as the manager sets them up.
func (e *Explainer) customKinds() []CustomKind {
	return append([]CustomKind{ArgoRollouts}, e.s.opts.CustomKinds...)
}

// Explain reads obj's inputs through reader (so the caller needs get on them) and
// says what the controller decides for obj at now. obj is a typed Deployment,
// StatefulSet, DaemonSet or CronJob, or an unstructured object of one of Kinds.
func (e *Explainer) Explain(ctx context.Context, reader client.Reader, obj client.Object, now time.Time) (Explanation, error) {
	full := func() bool { return e.capFull(ctx, reader, now) }
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return explain(ctx, e.s, deployments, o, reader, now, full)
	case *appsv1.StatefulSet:
		return explain(ctx, e.s, statefulSets, o, reader, now, full)
	case *appsv1.DaemonSet:
		return explain(ctx, e.s, daemonSets, o, reader, now, full)
	case *batchv1.CronJob:
		return explain(ctx, e.s, cronJobs, o, reader, now, full)
	case *unstructured.Unstructured:
		for _, c := range e.customKinds() {
			if c.GVK == o.GroupVersionKind() {
				return explain(ctx, e.s, c.workloadKind(), o, reader, now, full)
			}
		}
		return Explanation{}, fmt.Errorf("%s is not a workload kind Courier rolls (declare it with --rollout-kind)", o.GroupVersionKind())
	}
	return Explanation{}, fmt.Errorf("%T is not a workload kind Courier rolls", obj)
}

// capFull reports whether as many workloads as the cap allows are rolling, by the
// manager's own count (capScan) over every kind it caps (those with a finished
// check, as setupKind adds them), read through reader once per Explainer. A kind
// that cannot be read (not served, not allowed) counts none.
func (e *Explainer) capFull(ctx context.Context, reader client.Reader, now time.Time) bool {
	limit := e.s.opts.MaxConcurrentRollouts
	if limit <= 0 {
		return false
	}
	if e.rolling < 0 {
		e.rolling = 0
		deadline := e.s.opts.ProgressDeadline
		scans := []scan{capScan(deployments, reader, deadline), capScan(statefulSets, reader, deadline), capScan(daemonSets, reader, deadline)}
		for _, c := range e.customKinds() {
			scans = append(scans, capScan(c.workloadKind(), reader, deadline))
		}
		for _, sc := range scans {
			got, err := sc(ctx, now)
			if err != nil {
				continue
			}
			for _, w := range got {
				if w.rolling {
					e.rolling++
				}
			}
		}
	}
	return e.rolling >= limit
}

func explain[T client.Object](ctx context.Context, s *syncer, k workloadKind[T], obj T, reader client.Reader, now time.Time,
	capFull func() bool) (Explanation, error) {
	x := Explanation{Kind: k.name, Namespace: obj.GetNamespace(), Name: obj.GetName(), OptedIn: optedIn(obj)}
	if !x.OptedIn {
		return x, nil
	}
	if k.templateElsewhere != nil {
		if x.TemplateIn = k.templateElsewhere(obj); x.TemplateIn != "" {
			return x, nil
		}
	}
	ev, err := evaluate(ctx, s, k, obj, reader, now)
	if err != nil {
		return Explanation{}, err
	}
	for _, ref := range ev.refs {
		key, _ := inputKey(ref, onKeys(obj))
		x.Inputs = append(x.Inputs, Input{Ref: ref.String(), Keys: ref.Keys, Optional: ref.Optional,
			Exists: ev.obs.Digests[key] != contenthash.Absent})
	}
	x.AppliedHash = shortDigest(ev.cur.AppliedHash)
	if p := ev.cur.Pending; p != nil {
		x.Pending = &PendingChange{Hash: shortDigest(p.Hash), Since: p.Since, LastChange: p.Last}
	}
	if !ev.cur.LastRollout.IsZero() {
		x.LastRollout = &ev.cur.LastRollout
	}
	d := ev.decision
	x.Paused, x.Windows = paused(obj), ev.policy.Windows.String()
	if ev.policy.MinInterval > 0 {
		x.MinInterval = ev.policy.MinInterval.String()
	}
	x.Action, x.Waiting, x.Changed, x.Missing = d.Action.String(), waitReason(d.Action), d.Changed, ev.obs.MissingRequired
	if d.Action == actRollout && k.finished != nil && capFull() {
		x.Waiting = waitQueued // the cap holds it; CronJobs, which replace no pods, are never held
	}
	if d.Action == actScheduled && !d.RollsAt.IsZero() {
		x.RollsAt = &d.RollsAt
	}
	if ev.problems != nil {
		x.Problems = strings.Split(ev.problems.Error(), "\n") // errors.Join: one line per entry
	}
	return x, nil
}
