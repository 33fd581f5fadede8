package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/conversion"
	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/api/v1beta1"
	"github.com/courier-operator/courier/internal/scheme"
)

// convertOptions are the flags of `kubectl courier convert`.
type convertOptions struct {
	output        string
	files         []string
	recursive     bool
	outputVersion string
}

func newConvertCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &convertOptions{}
	cmd := &cobra.Command{
		Use:   "convert -f FILE|DIR ... [--output-version courier.dev/v1beta1]",
		Short: "Rewrite Courier manifests in another API version (v1alpha1 to v1beta1)",
		Long: "convert reads manifests and prints them with every courier.dev object in --output-version,\n" +
			"converted as the manager's conversion webhook converts it: nothing is lost, and what an\n" +
			"older version cannot say travels in the courier.dev/conversion-data annotation. Other\n" +
			"objects are printed as they are read. No cluster is contacted; comments are not kept.",
		Example: "  kubectl courier convert -f propagations.yaml > propagations.v1beta1.yaml\n" +
			"  kubectl courier convert -f manifests/ -R -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != "yaml" && o.output != "json" {
				return usageError("--output %q: want yaml or json", o.output)
			}
			if len(o.files) == 0 {
				return usageError("convert needs -f: the manifests to rewrite")
			}
			gv, err := schema.ParseGroupVersion(o.outputVersion)
			if err != nil || gv.Group != v1beta1.GroupVersion.Group {
				return usageError("--output-version %q: want courier.dev/<version>, e.g. %s", o.outputVersion, v1beta1.GroupVersion)
			}
			objs, err := readManifests(o.files, o.recursive)
			if err != nil {
				return err
			}
			s := scheme.New()
			out := make([]*unstructured.Unstructured, len(objs))
			for i, u := range objs {
				if out[i], err = convertObject(s, u, gv); err != nil {
					return fmt.Errorf("%s %s: %w", u.GetKind(), objectName(u), err)
				}
			}
			return printObjects(streams.Out, o.output, out)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "Output format: yaml (a stream of documents) or json (a v1 List)")
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "Manifests (files or directories) to convert")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "Read the directories of -f recursively")
	cmd.Flags().StringVar(&o.outputVersion, "output-version", v1beta1.GroupVersion.String(), "The courier.dev version to write")
	return cmd
}

// convertObject returns u in version gv when it is a courier.dev object of another
// version, through the same ConvertTo and ConvertFrom the conversion webhook runs;
// any other object as it is. Unknown fields are an error, not dropped.
func convertObject(s *runtime.Scheme, u *unstructured.Unstructured, gv schema.GroupVersion) (*unstructured.Unstructured, error) {
	gvk := u.GroupVersionKind()
	if gvk.Group != gv.Group || gvk.Version == gv.Version {
		return u, nil
	}
	src, err := s.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("unknown courier.dev kind or version: %w", err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, src, true); err != nil {
		return nil, err
	}
	dst, err := s.New(gv.WithKind(gvk.Kind))
	if err != nil {
		return nil, fmt.Errorf("no %s in %s: %w", gvk.Kind, gv, err)
	}
	switch {
	case isHub(src) && isSpoke(dst):
		err = dst.(conversion.Convertible).ConvertFrom(src.(conversion.Hub))
	case isSpoke(src) && isHub(dst):
		err = src.(conversion.Convertible).ConvertTo(dst.(conversion.Hub))
	default:
		err = fmt.Errorf("no conversion from %s to %s", gvk.GroupVersion(), gv)
	}
	if err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(dst)
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{Object: m}
	out.SetGroupVersionKind(gv.WithKind(gvk.Kind))
	tidy(out, u)
	return out, nil
}

func isHub(o runtime.Object) bool   { _, ok := o.(conversion.Hub); return ok }
func isSpoke(o runtime.Object) bool { _, ok := o.(conversion.Convertible); return ok }

// tidy drops from a converted manifest what its author did not write: the empty
// creationTimestamp and status of a typed object, and v1beta1's sourceNamespace
// when it is Exclude, the default the API server sets and v1alpha1's behaviour.
func tidy(out, in *unstructured.Unstructured) {
	if ts, ok := out.Object["metadata"].(map[string]any)["creationTimestamp"]; ok && ts == nil {
		unstructured.RemoveNestedField(out.Object, "metadata", "creationTimestamp")
	}
	if _, ok := in.Object["status"]; !ok {
		delete(out.Object, "status")
	}
	if sn, _, _ := unstructured.NestedString(out.Object, "spec", "targets", "sourceNamespace"); sn == string(v1beta1.SourceNamespaceExclude) {
		unstructured.RemoveNestedField(out.Object, "spec", "targets", "sourceNamespace")
	}
}

// printObjects writes objs as YAML documents or as a JSON v1 List.
func printObjects(out io.Writer, format string, objs []*unstructured.Unstructured) error {
	if format == "json" {
		items := make([]any, len(objs))
		for i, u := range objs {
			items[i] = u.Object
		}
		_, err := printData(out, "json", map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
		return err
	}
	var b strings.Builder
	for _, u := range objs {
		y, err := yaml.Marshal(u.Object)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// objectName is namespace/name, or name for a cluster-scoped object.
func objectName(u *unstructured.Unstructured) string {
	if u.GetNamespace() != "" {
		return u.GetNamespace() + "/" + u.GetName()
	}
	return u.GetName()
}
