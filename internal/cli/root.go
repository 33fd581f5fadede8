package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/courier-operator/courier/internal/scheme"
	"github.com/courier-operator/courier/internal/version"
)

// NewCommand returns the kubectl-courier command tree, writing to streams.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "kubectl-courier",
		Short: "See what Courier does, and why",
		Long: "kubectl courier shows Courier's propagations and the workloads that roll out on change,\n" +
			"from the status the controllers write and the rollout controller's own evaluation.",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl courier"},
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError("%v", err) })
	root.AddCommand(newStatusCommand(flags, streams), newWhyCommand(flags, streams), newMigrateCommand(flags, streams),
		newConvertCommand(streams))
	return root
}

// newClient is a client for the cluster the kubeconfig flags name. Its REST mapper
// discovers kinds lazily, so a kind the cluster does not serve (Argo Rollouts) is
// a "no match" error for that kind only.
func newClient(flags *genericclioptions.ConfigFlags) (client.Client, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "kubectl-courier"
	return client.New(cfg, client.Options{Scheme: scheme.New()})
}
