package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/migrate"
)

// migrateFieldOwner is the server-side apply field manager of `migrate --apply`.
const migrateFieldOwner = "kubectl-courier-migrate"

// migrateOptions are the flags of `kubectl courier migrate`.
type migrateOptions struct {
	output    string
	files     []string
	recursive bool
	apply     bool
}

func newMigrateCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &migrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate [-f FILE|DIR ...] [--apply]",
		Short: "Turn Reloader, kubernetes-replicator, Reflector and Kyverno generate rules into Courier's",
		Long: "migrate reads the cluster (every namespace), or manifests with -f, for the annotations of\n" +
			"Reloader, kubernetes-replicator and Reflector and for Kyverno generate rules, and prints the\n" +
			"Courier objects and the label and annotation changes that do the same, with what has no\n" +
			"equivalent and why. Nothing changes without --apply. Secrets and ConfigMaps are read as\n" +
			"metadata only: their data is never read.",
		Example: "  kubectl courier migrate > plan.yaml\n  kubectl courier migrate -f manifests/ -R\n  kubectl courier migrate --apply",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != "yaml" && o.output != "json" {
				return usageError("--output %q: want yaml or json", o.output)
			}
			if o.apply && len(o.files) > 0 {
				return usageError("--apply applies what the cluster holds; read -f files without it, or apply them first")
			}
			var objs []*unstructured.Unstructured
			var err error
			if len(o.files) > 0 {
				objs, err = readManifests(o.files, o.recursive)
			} else {
				objs, err = o.readCluster(cmd.Context(), flags, streams.ErrOut)
			}
			if err != nil {
				return err
			}
			plan, err := migrate.Convert(objs)
			if err != nil {
				return err
			}
			if o.apply {
				c, err := newClient(flags)
				if err != nil {
					return err
				}
				return applyPlan(cmd.Context(), c, plan, streams.Out)
			}
			return printPlan(streams.Out, o.output, plan)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "Output format: yaml (applicable, with the changes and findings as comments) or json (the whole plan)")
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "Manifests (files or directories) to read instead of the cluster")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "Read the directories of -f recursively")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "Apply the plan: create the Courier objects with server-side apply and patch the changed objects")
	return cmd
}

// readManifests reads every object of the files and directories, with kubectl's
// own reader (no cluster is contacted).
func readManifests(files []string, recursive bool) ([]*unstructured.Unstructured, error) {
	infos, err := resource.NewLocalBuilder().Unstructured().
		FilenameParam(false, &resource.FilenameOptions{Filenames: files, Recursive: recursive}).
		Flatten().Do().Infos()
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(infos))
	for _, info := range infos {
		if u, ok := info.Object.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// migrateKinds are the kinds the peers' annotations and rules live on. Secrets and
// ConfigMaps (metadataKinds) are read as metadata only, the others whole.
var (
	migrateKinds = []schema.GroupVersionKind{
		{Version: "v1", Kind: "Secret"},
		{Version: "v1", Kind: "ConfigMap"},
		{Version: "v1", Kind: "Namespace"},
		{Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "apps", Version: "v1", Kind: "StatefulSet"},
		{Group: "apps", Version: "v1", Kind: "DaemonSet"},
		{Group: "batch", Version: "v1", Kind: "CronJob"},
		{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"},
		{Group: "apps.openshift.io", Version: "v1", Kind: "DeploymentConfig"},
		{Group: "kyverno.io", Version: "v1", Kind: "ClusterPolicy"},
		{Group: "kyverno.io", Version: "v1", Kind: "Policy"},
	}
	metadataKinds = []schema.GroupVersionKind{{Version: "v1", Kind: "Secret"}, {Version: "v1", Kind: "ConfigMap"}}
)

// listOf returns an empty list of gvk to list into, and what reads its items as
// unstructured objects: metadata only for metadataKinds, so a Secret's data is
// never read.
func listOf(gvk schema.GroupVersionKind) (client.ObjectList, func() []*unstructured.Unstructured) {
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if slices.Contains(metadataKinds, gvk) {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(listGVK)
		return l, func() []*unstructured.Unstructured {
			out := make([]*unstructured.Unstructured, 0, len(l.Items))
			for i := range l.Items {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(gvk)
				u.SetNamespace(l.Items[i].Namespace)
				u.SetName(l.Items[i].Name)
				u.SetLabels(l.Items[i].Labels)
				u.SetAnnotations(l.Items[i].Annotations)
				out = append(out, u)
			}
			return out
		}
	}
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(listGVK)
	return l, func() []*unstructured.Unstructured {
		out := make([]*unstructured.Unstructured, 0, len(l.Items))
		for i := range l.Items {
			l.Items[i].SetGroupVersionKind(gvk)
			out = append(out, &l.Items[i])
		}
		return out
	}
}

// readCluster lists every kind migrate reads, in every namespace. A kind the
// cluster does not serve is skipped; one the caller may not list is named on errOut.
func (o *migrateOptions) readCluster(ctx context.Context, flags *genericclioptions.ConfigFlags, errOut io.Writer) ([]*unstructured.Unstructured, error) {
	c, err := newClient(flags)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	var refused unreadable
	defer func() { refused.warn(errOut) }()
	skip := func(err error) (bool, error) {
		switch {
		case err == nil:
			return false, nil
		case meta.IsNoMatchError(err), refused.note(err):
			return true, nil
		}
		return true, err
	}
	for _, gvk := range migrateKinds {
		list, items := listOf(gvk)
		if s, err := skip(c.List(ctx, list)); s {
			if err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, items()...)
	}
	return out, nil
}

// printPlan writes the plan: as JSON, or as YAML documents of the Courier objects
// (applicable as they are) with the findings and the changes as comments.
func printPlan(out io.Writer, format string, p migrate.Plan) error {
	if format == "json" {
		_, err := printData(out, "json", p)
		return err
	}
	var b strings.Builder
	b.WriteString("# kubectl courier migrate: a dry run, nothing was changed. --apply applies this plan.\n")
	fmt.Fprintf(&b, "# %d Courier object(s), %d change(s) of existing objects, %d finding(s).\n", len(p.Objects), len(p.Changes), len(p.Findings))
	if len(p.Findings) > 0 {
		b.WriteString("#\n# Findings: what has no exact equivalent, or was unsafe, and what the plan does instead.\n")
		for _, f := range p.Findings {
			what := f.Peer
			if f.Annotation != "" {
				what += " " + f.Annotation
			}
			fmt.Fprintf(&b, "#   [%s] %s (%s): %s\n", f.Severity, f.Object, what, f.Message)
		}
	}
	if len(p.Changes) > 0 {
		b.WriteString("#\n# Changes of existing objects (--apply makes them as these merge patches):\n")
		for _, c := range p.Changes {
			patch, err := changePatch(c)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "#   kubectl patch %s --type merge -p '%s'\n", patchTarget(c.Object), patch)
			if len(c.RemoveTemplateAnnotations) > 0 {
				fmt.Fprintf(&b, "#     (left in place: pod-template annotations %s; removing them rolls the pods once, do it with your next deploy)\n",
					strings.Join(c.RemoveTemplateAnnotations, ", "))
			}
		}
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	return printObjects(out, "yaml", p.Objects)
}

// changePatch is the JSON merge patch that makes c: labels and annotations set,
// peer annotations removed (null).
func changePatch(c migrate.Change) ([]byte, error) {
	annotations := map[string]any{}
	for k, v := range c.SetAnnotations {
		annotations[k] = v
	}
	for _, k := range c.RemoveAnnotations {
		annotations[k] = nil
	}
	md := map[string]any{}
	if len(c.SetLabels) > 0 {
		md["labels"] = c.SetLabels
	}
	if len(annotations) > 0 {
		md["annotations"] = annotations
	}
	return json.Marshal(map[string]any{"metadata": md})
}

// patchTarget is the kubectl argument naming ref ("deployment.apps/web -n team-a").
func patchTarget(ref migrate.ObjectRef) string {
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	kind := strings.ToLower(ref.Kind)
	if gv.Group != "" {
		kind += "." + gv.Group
	}
	s := kind + "/" + ref.Name
	if ref.Namespace != "" {
		s += " -n " + ref.Namespace
	}
	return s
}

// applyPlan creates the plan's objects with server-side apply, then patches the
// changed objects: the Courier objects first, so that a workload opted in or a
// source's consent granted finds them in place.
func applyPlan(ctx context.Context, c client.Client, p migrate.Plan, out io.Writer) error {
	for _, obj := range p.Objects {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()), client.FieldOwner(migrateFieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", obj.GetKind(), client.ObjectKeyFromObject(obj), err)
		}
		_, _ = fmt.Fprintf(out, "%s/%s applied\n", strings.ToLower(obj.GetKind()), obj.GetName())
	}
	for _, ch := range p.Changes {
		patch, err := changePatch(ch)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(ch.Object.APIVersion)
		u.SetKind(ch.Object.Kind)
		u.SetNamespace(ch.Object.Namespace)
		u.SetName(ch.Object.Name)
		if err := c.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(migrateFieldOwner)); err != nil {
			return fmt.Errorf("patching %s: %w", ch.Object, err)
		}
		_, _ = fmt.Fprintf(out, "%s patched (%s)\n", patchTarget(ch.Object), ch.Peer)
	}
	return nil
}
