package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/api/v1alpha1"
)

// Shell completion of arguments, from the cluster with the caller's own
// permissions: what cannot be listed is simply not offered.

// completePropagations offers clusterpropagation/NAME and propagation/NAME (of the
// namespace) for status.
func completePropagations(flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		out = append(out, namesOf(cmd.Context(), flags, v1alpha1.GroupVersion.WithKind("ClusterPropagationList"), false, "clusterpropagation/")...)
		out = append(out, namesOf(cmd.Context(), flags, v1alpha1.GroupVersion.WithKind("PropagationList"), true, "propagation/")...)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// whyKinds are the kinds offered before a "/" is typed.
var whyKinds = []string{"secret/", "configmap/", "deployment/", "statefulset/", "daemonset/", "cronjob/"}

// completeObjects offers KIND/ first, then the names of that kind in the namespace.
func completeObjects(flags *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		kind, _, typed := strings.Cut(toComplete, "/")
		if !typed {
			return whyKinds, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
		}
		mapper, err := flags.ToRESTMapper()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		gvk, err := mapper.KindFor(schema.GroupVersionResource{Resource: strings.ToLower(kind)})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return namesOf(cmd.Context(), flags, gvk.GroupVersion().WithKind(gvk.Kind+"List"), true, kind+"/"), cobra.ShellCompDirectiveNoFileComp
	}
}

// namesOf lists the names of listGVK (metadata only), in the namespace when
// namespaced, each with prefix; nothing when it cannot.
func namesOf(ctx context.Context, flags *genericclioptions.ConfigFlags, listGVK schema.GroupVersionKind, namespaced bool, prefix string) []cobra.Completion {
	c, err := newClient(flags)
	if err != nil {
		return nil
	}
	var opts []client.ListOption
	if namespaced {
		ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return nil
		}
		opts = append(opts, client.InNamespace(ns))
	}
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(listGVK)
	if err := c.List(ctx, l, opts...); err != nil {
		return nil
	}
	out := make([]cobra.Completion, 0, len(l.Items))
	for _, it := range l.Items {
		out = append(out, prefix+it.Name)
	}
	return out
}
