package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/courier-operator/courier/hack/bundlegen/internal/bundle"
	"github.com/courier-operator/courier/hack/bundlegen/internal/chart"
	"github.com/courier-operator/courier/hack/bundlegen/internal/tools"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bundlegen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: bundlegen bundle|chart [flags]")
	}
	root, err := tools.Root()
	if err != nil {
		return err
	}
	switch args[0] {
	case "bundle":
		fs := flag.NewFlagSet("bundle", flag.ExitOnError)
		o := DefaultOptions()
		fs.StringVar(&o.Version, "version", o.Version, "bundle version (semver, no leading v)")
		fs.StringVar(&o.Replaces, "replaces", "", "CSV name this version replaces")
		fs.StringVar(&o.SkipRange, "skip-range", "", "olm.skipRange annotation")
		channels := fs.String("channels", strings.Join(o.Channels, ","), "channels, comma separated")
		fs.StringVar(&o.DefaultChannel, "default-channel", o.DefaultChannel, "default channel")
		out := fs.String("out", filepath.Join(root, "bundle"), "bundle directory to write")
		dockerfile := fs.String("dockerfile", filepath.Join(root, "bundle.Dockerfile"), "bundle.Dockerfile to write")
		_ = fs.Parse(args[1:])
		o.Channels = strings.Split(*channels, ",")
		res, err := RenderBundle(root, o)
		if err != nil {
			return err
		}
		if err := WriteTree(*out, res.Files); err != nil {
			return err
		}
		return os.WriteFile(*dockerfile, res.Dockerfile, 0o644)
	case "chart":
		fs := flag.NewFlagSet("chart", flag.ExitOnError)
		out := fs.String("out", filepath.Join(root, "charts", "courier"), "chart directory")
		_ = fs.Parse(args[1:])
		files, err := RenderChart(root)
		if err != nil {
			return err
		}
		return chart.Write(*out, files)
	default:
		return fmt.Errorf("unknown command %q (want bundle or chart)", args[0])
	}
}

// DefaultOptions are the facts of the current release; `make bundle-offline`
// passes VERSION through -version.
func DefaultOptions() bundle.Options {
	return bundle.Options{
		Package:        "courier-operator",
		Version:        "0.1.0",
		Channels:       []string{"candidate", "stable"},
		DefaultChannel: "stable",
		ProjectLayout:  "go.kubebuilder.io/v4",
	}
}

// WriteTree replaces dir with exactly files (paths relative to dir).
func WriteTree(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}
