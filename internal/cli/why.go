package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/controllers/propagation"
	"github.com/courier-operator/courier/controllers/rollout"
)

// whyOptions are the flags and argument of `kubectl courier why`.
type whyOptions struct {
	output string
	// excluded are the manager's --excluded-namespaces (same name, same default).
	excluded []string
	rollout  rolloutFlags
	now      func() time.Time
}

func newWhyCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &whyOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "why KIND/NAME",
		Short: "Explain an object: a copy, a missing copy, or a workload's rollouts",
		Long: "why explains one object in the namespace (-n):\n" +
			"  - a copy: which propagation owns it, its source, whether it is in sync and since when;\n" +
			"  - a Secret, ConfigMap or other object that is not a copy: which propagations could copy\n" +
			"    one here under that name, and why each does not (selector, glob, exclusion, consent,\n" +
			"    an object Courier does not manage, a failure the propagation reports);\n" +
			"  - a workload: the inputs it consumes and what the next change does.\n" +
			"The answers come from the controllers' own rules and status.",
		Example:           "  kubectl courier why secret/registry-pull -n team-a\n  kubectl courier why deployment/web -n team-a -o json",
		ValidArgsFunction: completeObjects(flags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !strings.Contains(args[0], "/") {
				return usageError("want one KIND/NAME argument, such as secret/registry-pull or deployment/web")
			}
			if err := checkOutput(o.output); err != nil {
				return err
			}
			kind, name, _ := strings.Cut(args[0], "/")
			c, err := newClient(flags)
			if err != nil {
				return err
			}
			mapper, err := flags.ToRESTMapper()
			if err != nil {
				return err
			}
			gvk, err := mapper.KindFor(schema.GroupVersionResource{Resource: strings.ToLower(kind)})
			if err != nil {
				return usageError("%q is not a kind this cluster serves: %v", kind, err)
			}
			ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
			if err != nil {
				return err
			}
			a, err := o.explain(cmd.Context(), c, gvk, ns, name)
			if err != nil {
				return err
			}
			return printAnswer(streams.Out, o.output, a)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "Output format: table (sentences), wide, json or yaml")
	cmd.Flags().StringSliceVar(&o.excluded, "excluded-namespaces", propagation.DefaultExcludedNamespaces,
		"As the manager's flag: namespaces no propagation ever targets")
	o.rollout.add(cmd)
	return cmd
}

// whyAnswer is what `why` says about one object; -o json and -o yaml print it.
type whyAnswer struct {
	// Object is "Secret team-a/registry-pull".
	Object string `json:"object"`
	// Exists is whether the object exists (false when it could not be read).
	Exists bool `json:"exists"`
	// Copy is set when the object is a copy Courier made.
	Copy *copyAnswer `json:"copy,omitempty"`
	// Propagations are, for an object that is not a copy, the propagations that
	// could copy one here under its name, and why each does not.
	Propagations []candidateAnswer `json:"propagations,omitempty"`
	// Workload is the rollout controller's evaluation of a workload.
	Workload *rollout.Explanation `json:"workload,omitempty"`
	// Unreadable names what the caller's permissions do not let it read.
	Unreadable unreadable `json:"unreadable,omitempty"`
	// Answer is the explanation in sentences (what the table output prints).
	Answer []string `json:"answer"`
}

// copyAnswer describes a copy.
type copyAnswer struct {
	// Owner is "ClusterPropagation/NAME" or "Propagation/NAMESPACE/NAME".
	Owner string `json:"owner"`
	// Source is the source's "namespace/name".
	Source string `json:"source"`
	// InSync is whether the owner reports the copy in sync.
	InSync bool `json:"inSync"`
	// Since is when the owner last synced its targets.
	Since *metav1.Time `json:"since,omitempty"`
	// Reason is why it is not in sync (empty when it is).
	Reason string `json:"reason,omitempty"`
}

// candidateAnswer is one propagation that could copy an object here.
type candidateAnswer struct {
	// Propagation is "ClusterPropagation/NAME" or "Propagation/NAMESPACE/NAME".
	Propagation string `json:"propagation"`
	// Source is the source's "namespace/name".
	Source string `json:"source"`
	// Reason is why it makes no copy here (empty: it should, see Answer).
	Reason string `json:"reason"`
}

// explain answers for the object gvk ns/name.
func (o *whyOptions) explain(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, ns, name string) (whyAnswer, error) {
	a := whyAnswer{Object: fmt.Sprintf("%s %s/%s", gvk.Kind, ns, name)}
	ex, err := o.rollout.explainer()
	if err != nil {
		return a, err
	}
	if slices.Contains(ex.Kinds(), gvk) {
		return o.explainWorkload(ctx, c, ex, gvk, ns, name, a)
	}
	obj := &metav1.PartialObjectMetadata{} // metadata only: a Secret's data is never read
	obj.SetGroupVersionKind(gvk)
	switch err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); {
	case err == nil:
		a.Exists = true
	case apierrors.IsNotFound(err):
	default:
		if !a.note(err) {
			return a, err
		}
		a.say("%s could not be read: %s.", a.Object, a.Unreadable[len(a.Unreadable)-1])
	}
	if a.Exists && obj.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue {
		return a, o.explainCopy(ctx, c, obj, &a)
	}
	switch {
	case a.Exists:
		a.say("%s exists and is not a copy: Courier does not manage it.", a.Object)
	case len(a.Unreadable) == 0:
		a.say("%s does not exist.", a.Object)
	}
	return a, o.explainCandidates(ctx, c, gvk, ns, name, &a)
}

// say adds a sentence to the answer.
func (a *whyAnswer) say(format string, args ...any) {
	a.Answer = append(a.Answer, fmt.Sprintf(format, args...))
}

// note records an unreadable part (a refusal) and reports whether err was one.
func (a *whyAnswer) note(err error) bool { return a.Unreadable.note(err) }

// explainCopy explains a copy from its labels, its annotations and its owner's status.
func (o *whyOptions) explainCopy(ctx context.Context, c client.Client, obj *metav1.PartialObjectMetadata, a *whyAnswer) error {
	cp := &copyAnswer{Source: obj.Annotations[v1alpha1.AnnotationSource]}
	a.Copy = cp
	var owner client.Object
	if n := obj.Labels[v1alpha1.LabelClusterPropagation]; n != "" {
		p := &v1alpha1.ClusterPropagation{}
		p.Name, owner, cp.Owner = n, p, "ClusterPropagation/"+n
	} else {
		p := &v1alpha1.Propagation{}
		p.Namespace, p.Name = obj.Namespace, obj.Labels[v1alpha1.LabelPropagation]
		owner, cp.Owner = p, "Propagation/"+p.Namespace+"/"+p.Name
	}
	a.say("It is a copy made by %s from %s %s.", cp.Owner, obj.Kind, cp.Source)
	switch err := c.Get(ctx, client.ObjectKeyFromObject(owner), owner); {
	case apierrors.IsNotFound(err):
		cp.Reason = "OwnerGone"
		a.say("%s no longer exists: the copy was left in place (deletionPolicy Orphan) and nothing keeps it in sync.", cp.Owner)
		return nil
	case a.note(err):
		cp.Reason = "OwnerUnreadable"
		a.say("Whether it is in sync is in %s's status, which you cannot read.", cp.Owner)
		return nil
	case err != nil:
		return err
	}
	st := statusOf(owner)
	cp.Since = st.LastSyncTime
	if f, ok := failureFor(st, obj.Namespace, obj.Name); ok {
		cp.Reason = f.Reason
		a.say("It is not in sync: %s reports %s: %s.", cp.Owner, f.Reason, f.Message)
		return nil
	}
	p := propagationOf("", owner, st)
	if p.Ready != string(metav1.ConditionTrue) {
		cp.Reason = p.Reason
		a.say("%s is not Ready (%s: %s), so the copy may be behind its source.", cp.Owner, p.Reason, p.Message)
		return nil
	}
	cp.InSync = true
	since := ""
	if st.LastSyncTime != nil {
		since = ", last synced " + st.LastSyncTime.UTC().Format(time.RFC3339)
	}
	a.say("It is in sync: %s is Ready with %d of %d targets synced%s; Courier repairs any edit to it.", cp.Owner, st.Synced, st.Desired, since)
	return nil
}

// failureFor finds the failure a status reports for the target ns/name.
func failureFor(st *v1alpha1.PropagationStatus, ns, name string) (v1alpha1.TargetFailure, bool) {
	for _, f := range st.Failures {
		if f.Namespace == ns && f.Name == name {
			return f, true
		}
	}
	return v1alpha1.TargetFailure{}, false
}

// source is one source of a propagation that would be copied under the asked name.
type source struct {
	ref     v1alpha1.SourceReference
	name    string
	present *metav1.PartialObjectMetadata // nil: not found or not readable
}

// explainCandidates finds the propagations that could copy gvk/name into ns and
// says why each does not.
func (o *whyOptions) explainCandidates(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, ns, name string, a *whyAnswer) error {
	// The namespace, read once and only if a candidate needs it; nil when it
	// cannot be read (the refusal is noted).
	readNamespace := sync.OnceValue(func() *corev1.Namespace {
		nsObj := &corev1.Namespace{}
		if err := c.Get(ctx, client.ObjectKey{Name: ns}, nsObj); err != nil {
			a.note(err)
			return nil
		}
		return nsObj
	})
	found := 0
	var cps v1alpha1.ClusterPropagationList
	if err := c.List(ctx, &cps); err != nil && !a.note(err) {
		return err
	}
	for i := range cps.Items {
		p := &cps.Items[i]
		for _, src := range o.sourcesCopiedAs(ctx, c, a, p.Spec.Sources, p.Spec.Template, gvk, name) {
			found++
			cand := candidateAnswer{Propagation: "ClusterPropagation/" + p.Name, Source: src.ref.Namespace + "/" + src.name}
			switch nsv := readNamespace(); {
			case src.ref.Namespace == ns:
				cand.Reason = "this is the source's own namespace, which is never a target"
			case nsv == nil:
				cand.Reason = "namespace " + ns + " could not be read to match it against the targets"
			default:
				why, err := propagation.WhyNotTarget(p, nsv, o.excluded)
				if err != nil {
					why = "its targets are invalid: " + err.Error()
				}
				cand.Reason = why
			}
			if cand.Reason == "" {
				cand.Reason = targetOutcome(p, p.Spec.ConflictPolicy, src, ns, name, a.Exists)
			}
			a.addCandidate(cand)
		}
	}
	var ps v1alpha1.PropagationList
	if err := c.List(ctx, &ps, client.InNamespace(ns)); err != nil && !a.note(err) {
		return err
	}
	for i := range ps.Items {
		p := &ps.Items[i]
		for _, src := range o.sourcesCopiedAs(ctx, c, a, p.Spec.Sources, p.Spec.Template, gvk, name) {
			found++
			cand := candidateAnswer{Propagation: "Propagation/" + p.Namespace + "/" + p.Name, Source: src.ref.Namespace + "/" + src.name}
			switch nsv := readNamespace(); {
			case src.ref.Namespace == ns:
				cand.Reason = "its source is in the Propagation's own namespace, which is never a target"
			case src.present == nil:
				cand.Reason = "its source " + cand.Source + " does not exist or cannot be read, so its consent cannot be checked"
			case nsv == nil:
				cand.Reason = "namespace " + ns + " could not be read to check the source's consent"
			default:
				if why := propagation.WhyNotPulled(src.present.Annotations, nsv, o.excluded); why != "" {
					cand.Reason = "the source's owner has not shared it with " + ns + ": " + why
				}
			}
			if cand.Reason == "" {
				cand.Reason = targetOutcome(p, p.Spec.ConflictPolicy, src, ns, name, a.Exists)
			}
			a.addCandidate(cand)
		}
	}
	if found == 0 {
		where := ""
		if len(a.Unreadable) > 0 {
			where = " that you can read"
		}
		a.say("No propagation%s copies a %s named %s into any namespace: create a ClusterPropagation (platform) or a Propagation in %s (pull).",
			where, gvk.Kind, name, ns)
	}
	return nil
}

// addCandidate records cand with its sentence.
func (a *whyAnswer) addCandidate(cand candidateAnswer) {
	a.Propagations = append(a.Propagations, cand)
	a.say("%s (source %s): %s.", cand.Propagation, cand.Source, cand.Reason)
}

// targetOutcome says what happens to a target the propagation's rules select: the
// source is missing, an object Courier does not manage holds the name, the status
// reports a failure, or the copy is due.
func targetOutcome(owner client.Object, policy v1alpha1.ConflictPolicy, src source, ns, name string, exists bool) string {
	st := statusOf(owner)
	if src.present == nil {
		return "it targets " + ns + ", but its source " + src.ref.Namespace + "/" + src.name + " does not exist or cannot be read"
	}
	if f, ok := failureFor(st, ns, name); ok {
		return fmt.Sprintf("it targets %s and reports %s: %s", ns, f.Reason, f.Message)
	}
	if exists {
		if policy == "" {
			policy = v1alpha1.ConflictSkip
		}
		return fmt.Sprintf("it targets %s, but an object Courier does not manage holds the name (conflictPolicy %s)", ns, policy)
	}
	p := propagationOf("", owner, st)
	return fmt.Sprintf("it targets %s and should have made the copy; its status: Ready %s (%s: %s)", ns, p.Ready, p.Reason, p.Message)
}

// sourcesCopiedAs returns the sources among refs of kind gvk whose copy is called
// name: a source named so (renamed by template.name), or one a selector picks
// whose own name it is.
func (o *whyOptions) sourcesCopiedAs(ctx context.Context, c client.Client, a *whyAnswer, refs []v1alpha1.SourceReference,
	template *v1alpha1.CopyTemplate, gvk schema.GroupVersionKind, name string) []source {
	var out []source
	for _, ref := range refs {
		if ref.APIVersion != gvk.GroupVersion().String() || ref.Kind != gvk.Kind {
			continue
		}
		srcName := ref.Name
		if ref.Name == "" {
			srcName = name // a selector's sources keep their names
		} else if propagation.CopyName(template, ref.Name) != name {
			continue
		}
		s := source{ref: ref, name: srcName}
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(gvk)
		switch err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: srcName}, m); {
		case err == nil:
			s.present = m
		case !apierrors.IsNotFound(err):
			a.note(err)
		}
		if ref.Name == "" {
			sel, err := ref.Selector.AsSelector()
			if s.present == nil || err != nil || !sel.Matches(labels.Set(s.present.Labels)) {
				continue // the selector picks no source of that name
			}
		}
		out = append(out, s)
	}
	return out
}

// explainWorkload explains a workload through the rollout controller's evaluation.
func (o *whyOptions) explainWorkload(ctx context.Context, c client.Client, ex *rollout.Explainer, gvk schema.GroupVersionKind,
	ns, name string, a whyAnswer) (whyAnswer, error) {
	obj := newObject(c, gvk)
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			a.say("%s does not exist.", a.Object)
			return a, nil
		}
		return a, err
	}
	a.Exists = true
	x, err := ex.Explain(ctx, c, obj, o.now())
	if err != nil {
		return a, err
	}
	a.Workload = &x
	a.Answer = append(a.Answer, workloadSentences(x)...)
	return a, nil
}

// newObject is an empty object of gvk: typed where the scheme knows it.
func newObject(c client.Client, gvk schema.GroupVersionKind) client.Object {
	if obj, err := c.Scheme().New(gvk); err == nil {
		return obj.(client.Object)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}
