package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/pkg/reconciler"
)

// statusOptions are the flags and arguments of `kubectl courier status`.
type statusOptions struct {
	output        string
	allNamespaces bool
	rollout       rolloutFlags
	// only, when set, limits the report to one propagation (KIND/NAME).
	only *objectRef
	// now is the clock (fixed in tests, so golden output does not age).
	now func() time.Time
}

// objectRef is a KIND/NAME argument.
type objectRef struct {
	kind string // ClusterPropagation or Propagation
	name string
}

func newStatusCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &statusOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "status [clusterpropagation/NAME | propagation/NAME]",
		Short: "Show every propagation and opted-in workload, and what is not Ready",
		Long: "status shows the ClusterPropagations, the Propagations and the workloads opted in to\n" +
			"rollout on change (in the namespace, or in all with -A): counts, failing targets, each\n" +
			"workload's inputs, applied hash and pending change, and why a change waits.\n\n" +
			"Exit codes: 0 everything shown is Ready, 3 something is not, 1 the cluster could not be read, 2 usage.",
		Example:           "  kubectl courier status -A\n  kubectl courier status clusterpropagation/ca-bundle -o yaml",
		ValidArgsFunction: completePropagations(flags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return err
			}
			c, err := newClient(flags)
			if err != nil {
				return err
			}
			ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
			if err != nil {
				return err
			}
			if o.allNamespaces {
				ns = ""
			}
			r, err := o.gather(cmd.Context(), c, ns)
			if err != nil {
				return err
			}
			r.Unreadable.warn(streams.ErrOut)
			if err := printStatus(streams.Out, o.output, ns, r, o.now()); err != nil {
				return err
			}
			if !r.Ready {
				return errNotReady
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "Output format: table, wide, json or yaml")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "Show Propagations and workloads in every namespace")
	o.rollout.add(cmd)
	return cmd
}

// complete checks the flags and parses the argument.
func (o *statusOptions) complete(args []string) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	switch len(args) {
	case 0:
	case 1:
		kind, name, ok := strings.Cut(args[0], "/")
		k, known := propagationKinds[strings.ToLower(kind)]
		if !ok || !known || name == "" {
			return usageError("%q: want clusterpropagation/NAME or propagation/NAME", args[0])
		}
		o.only = &objectRef{kind: k, name: name}
	default:
		return usageError("at most one argument, clusterpropagation/NAME or propagation/NAME")
	}
	return nil
}

// propagationKinds are the spellings of the two kinds an argument may use: kubectl's
// kind, plural, singular and short names.
var propagationKinds = map[string]string{
	"clusterpropagation": "ClusterPropagation", "clusterpropagations": "ClusterPropagation", "cprop": "ClusterPropagation",
	"clusterpropagation.courier.dev": "ClusterPropagation",
	"propagation":                    "Propagation", "propagations": "Propagation", "prop": "Propagation",
	"propagation.courier.dev": "Propagation",
}

// statusReport is what `status` shows; -o json and -o yaml print it as is.
type statusReport struct {
	// Ready is false when anything below is not Ready.
	Ready               bool                `json:"ready"`
	ClusterPropagations []propagationStatus `json:"clusterPropagations"`
	Propagations        []propagationStatus `json:"propagations"`
	Workloads           []workloadStatus    `json:"workloads"`
	// Unreadable names what the caller's permissions do not let it read, with the
	// API server's refusal (which names the missing permission).
	Unreadable unreadable `json:"unreadable,omitempty"`
}

// propagationStatus is one ClusterPropagation or Propagation, from its status.
type propagationStatus struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Ready is the Ready condition's status: True, False or Unknown (no condition
	// yet, or one older than the spec: the controller has not caught up).
	Ready       string                   `json:"ready"`
	Reason      string                   `json:"reason,omitempty"`
	Message     string                   `json:"message,omitempty"`
	Desired     int32                    `json:"desired"`
	Synced      int32                    `json:"synced"`
	Conflicting int32                    `json:"conflicting"`
	Failed      int32                    `json:"failed"`
	Failures    []v1alpha1.TargetFailure `json:"failures,omitempty"`
	LastSync    *metav1.Time             `json:"lastSyncTime,omitempty"`
}

// workloadStatus is one opted-in workload, as the rollout controller evaluates it.
type workloadStatus struct {
	rollout.Explanation `json:",inline"`
	// Ready is false when a required input is missing, an annotation is invalid,
	// the template is elsewhere or the workload could not be evaluated.
	Ready bool `json:"ready"`
	// Error is why the workload could not be evaluated (an input not readable).
	Error string `json:"error,omitempty"`
}

// gather reads everything the report shows; ns "" is every namespace.
func (o *statusOptions) gather(ctx context.Context, c client.Client, ns string) (statusReport, error) {
	var r statusReport
	var readable int
	note := func(err error) error {
		if r.Unreadable.note(err) {
			return nil
		}
		return err
	}
	// add lists one kind of propagation into into, keeping the one asked for.
	add := func(kind string, list client.ObjectList, into *[]propagationStatus, opts ...client.ListOption) error {
		if o.only != nil && o.only.kind != kind {
			return nil
		}
		err := c.List(ctx, list, opts...)
		if err != nil {
			return note(err)
		}
		readable++
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, it := range items {
			if p := it.(client.Object); o.only == nil || o.only.name == p.GetName() {
				*into = append(*into, propagationOf(kind, p, statusOf(p)))
			}
		}
		return nil
	}
	if err := add("ClusterPropagation", &v1alpha1.ClusterPropagationList{}, &r.ClusterPropagations); err != nil {
		return r, err
	}
	if err := add("Propagation", &v1alpha1.PropagationList{}, &r.Propagations, client.InNamespace(ns)); err != nil {
		return r, err
	}
	if o.only != nil && len(r.ClusterPropagations)+len(r.Propagations) == 0 && readable > 0 {
		return r, fmt.Errorf("%s %q not found", o.only.kind, o.only.name)
	}
	if o.only == nil {
		n, err := o.gatherWorkloads(ctx, c, ns, &r, note)
		if err != nil {
			return r, err
		}
		readable += n
	}
	if readable == 0 {
		return r, fmt.Errorf("nothing could be read: %s", strings.Join(r.Unreadable, "; "))
	}
	r.Ready = true
	for _, p := range slices.Concat(r.ClusterPropagations, r.Propagations) {
		r.Ready = r.Ready && p.Ready == string(metav1.ConditionTrue)
	}
	for _, w := range r.Workloads {
		r.Ready = r.Ready && w.Ready
	}
	return r, nil
}

// gatherWorkloads adds every opted-in workload of every kind the cluster serves,
// and returns how many kinds it could list.
func (o *statusOptions) gatherWorkloads(ctx context.Context, c client.Client, ns string, r *statusReport, note func(error) error) (int, error) {
	ex, err := o.rollout.explainer()
	if err != nil {
		return 0, err
	}
	listed := 0
	for _, gvk := range ex.Kinds() {
		objs, err := listOptedIn(ctx, c, gvk, ns)
		switch {
		case meta.IsNoMatchError(err):
			continue // not served here (no Argo Rollouts CRD, say)
		case note(err) != nil:
			return listed, err
		case err != nil:
			continue
		}
		listed++
		for _, obj := range objs {
			w := workloadStatus{}
			x, err := ex.Explain(ctx, c, obj, o.now())
			if err != nil {
				w.Explanation = rollout.Explanation{Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), OptedIn: true}
				w.Error = err.Error()
			} else {
				w.Explanation = x
				w.Ready = x.TemplateIn == "" && len(x.Missing) == 0 && len(x.Problems) == 0
			}
			r.Workloads = append(r.Workloads, w)
		}
	}
	slices.SortStableFunc(r.Workloads, func(a, b workloadStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return listed, nil
}

// listOptedIn lists the workloads of gvk in ns that carry the opt-in label: typed
// objects for the kinds the scheme knows, unstructured ones for the others.
func listOptedIn(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, ns string) ([]client.Object, error) {
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	var list client.ObjectList
	if obj, err := c.Scheme().New(listGVK); err == nil {
		list = obj.(client.ObjectList)
	} else {
		u := &unstructured.UnstructuredList{}
		u.SetGroupVersionKind(listGVK)
		list = u
	}
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{rollout.LabelOptIn: "true"}); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(items))
	for _, it := range items {
		obj := it.(client.Object)
		if u, ok := obj.(*unstructured.Unstructured); ok {
			u.SetGroupVersionKind(gvk)
		}
		out = append(out, obj)
	}
	return out, nil
}

// statusOf is a ClusterPropagation's or a Propagation's status.
func statusOf(obj client.Object) *v1alpha1.PropagationStatus {
	switch p := obj.(type) {
	case *v1alpha1.ClusterPropagation:
		return &p.Status
	case *v1alpha1.Propagation:
		return &p.Status
	}
	return &v1alpha1.PropagationStatus{}
}

// propagationOf reads what status shows of one propagation.
func propagationOf(kind string, obj client.Object, st *v1alpha1.PropagationStatus) propagationStatus {
	p := propagationStatus{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Ready: string(metav1.ConditionUnknown),
		Desired: st.Desired, Synced: st.Synced, Conflicting: st.Conflicting, Failed: st.Failed, Failures: st.Failures, LastSync: st.LastSyncTime}
	switch c := meta.FindStatusCondition(st.Conditions, reconciler.ConditionReady); {
	case c == nil:
		p.Reason, p.Message = "NotReconciled", "the controller has not reported on it yet"
	case st.ObservedGeneration < obj.GetGeneration() || c.ObservedGeneration < obj.GetGeneration():
		p.Reason, p.Message = "Reconciling", "the controller has not caught up with the latest spec yet"
	default:
		p.Ready, p.Reason, p.Message = string(c.Status), c.Reason, c.Message
	}
	return p
}
