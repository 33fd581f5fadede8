package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/courier-operator/courier/hack/bundlegen/internal/bundle"
	"github.com/courier-operator/courier/hack/bundlegen/internal/catalog"
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
		o, err := ReleaseOptions(root)
		if err != nil {
			return err
		}
		fs.StringVar(&o.Version, "version", o.Version, "bundle version (semver, no leading v)")
		fs.StringVar(&o.Replaces, "replaces", o.Replaces, "CSV name this version replaces")
		fs.StringVar(&o.SkipRange, "skip-range", o.SkipRange, "olm.skipRange annotation")
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
	case "catalog-add":
		fs := flag.NewFlagSet("catalog-add", flag.ExitOnError)
		file := fs.String("channels-file", filepath.Join(root, "catalog", "courier-operator", "channels.yaml"), "olm.channel file")
		name := fs.String("name", "", "bundle (CSV) name to add, <package>.v<semver>")
		channels := fs.String("channels", "candidate,stable", "channels to add it to")
		release := fs.Bool("update-release", false, "also record the new version and its upgrade edges (from the default channel) in "+ReleaseFile)
		_ = fs.Parse(args[1:])
		chs, err := catalog.LoadChannels(*file)
		if err != nil {
			return err
		}
		if chs, err = catalog.Add(chs, "courier-operator", *name, strings.Split(*channels, ",")); err != nil {
			return err
		}
		for _, c := range chs {
			if err := catalog.Check(c); err != nil {
				return err
			}
		}
		if err := catalog.WriteChannels(*file, chs); err != nil {
			return err
		}
		if *release {
			return updateRelease(root, chs, *name)
		}
		return nil
	case "catalog-head":
		fs := flag.NewFlagSet("catalog-head", flag.ExitOnError)
		file := fs.String("channels-file", filepath.Join(root, "catalog", "courier-operator", "channels.yaml"), "olm.channel file")
		channel := fs.String("channel", "stable", "channel")
		_ = fs.Parse(args[1:])
		chs, err := catalog.LoadChannels(*file)
		if err != nil {
			return err
		}
		for _, c := range chs {
			if c.Name == *channel {
				h, err := catalog.Head(c)
				if err != nil {
					return err
				}
				fmt.Println(h.Name)
				return nil
			}
		}
		return fmt.Errorf("no channel %s", *channel)
	default:
		return fmt.Errorf("unknown command %q (want bundle, chart, catalog-add or catalog-head)", args[0])
	}
}

// ReleaseFile holds the facts of the current bundle (version, upgrade edges,
// channels), relative to the repository root.
const ReleaseFile = "config/manifests/release.yaml"

// ReleaseOptions reads ReleaseFile into bundle options.
func ReleaseOptions(root string) (bundle.Options, error) {
	o := bundle.Options{Package: "courier-operator", ProjectLayout: "go.kubebuilder.io/v4"}
	data, err := os.ReadFile(filepath.Join(root, ReleaseFile))
	if err != nil {
		return o, err
	}
	var r struct {
		Version        string   `json:"version"`
		Replaces       string   `json:"replaces"`
		SkipRange      string   `json:"skipRange"`
		Channels       []string `json:"channels"`
		DefaultChannel string   `json:"defaultChannel"`
	}
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		return o, fmt.Errorf("%s: %w", ReleaseFile, err)
	}
	o.Version, o.Replaces, o.SkipRange, o.Channels, o.DefaultChannel = r.Version, r.Replaces, r.SkipRange, r.Channels, r.DefaultChannel
	o.Platforms, err = imagePlatforms(root)
	return o, err
}

// GoreleaserFile builds and publishes the release images, relative to the
// repository root.
const GoreleaserFile = ".goreleaser.yaml"

// imagePlatforms reads the platforms goreleaser builds the manager image for.
func imagePlatforms(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, GoreleaserFile))
	if err != nil {
		return nil, err
	}
	var g struct {
		Dockers []struct {
			ID        string   `json:"id"`
			Platforms []string `json:"platforms"`
		} `json:"dockers_v2"`
	}
	if err := yaml.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", GoreleaserFile, err)
	}
	for _, d := range g.Dockers {
		if d.ID == "courier" {
			return d.Platforms, nil
		}
	}
	return nil, fmt.Errorf("%s builds no image with id courier (dockers_v2)", GoreleaserFile)
}

// WriteTree replaces dir with exactly files (paths relative to dir).
func WriteTree(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
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

// updateRelease records name's version and its upgrade edges in the default
// channel (replaces, skipRange) in ReleaseFile, so the next bundle carries them.
func updateRelease(root string, chs []catalog.Channel, name string) error {
	o, err := ReleaseOptions(root)
	if err != nil {
		return err
	}
	v, err := catalog.VersionOf(name)
	if err != nil {
		return err
	}
	o.Version, o.Replaces, o.SkipRange = v.String(), "", ""
	for _, c := range chs {
		if c.Name != o.DefaultChannel {
			continue
		}
		for _, e := range c.Entries {
			if e.Name == name {
				o.Replaces, o.SkipRange = e.Replaces, e.SkipRange
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The facts of the bundle in bundle/: hack/bundlegen reads them (flags override),\n")
	fmt.Fprintf(&b, "# hack/catalog-add-version.sh updates them when a new version is cut.\n")
	fmt.Fprintf(&b, "version: %s\n", o.Version)
	fmt.Fprintf(&b, "# CSV this version upgrades from (empty for the first release) and the versions it\n")
	fmt.Fprintf(&b, "# may upgrade from directly (olm.skipRange).\n")
	fmt.Fprintf(&b, "replaces: %q\nskipRange: %q\nchannels:\n", o.Replaces, o.SkipRange)
	for _, c := range o.Channels {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	fmt.Fprintf(&b, "defaultChannel: %s\n", o.DefaultChannel)
	return os.WriteFile(filepath.Join(root, ReleaseFile), []byte(b.String()), 0o644)
}
