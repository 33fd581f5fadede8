package main

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// The plugin as krew's index knows it.
const (
	pluginName = "courier"
	buildID    = "kubectl-courier"
	homepage   = "https://github.com/courier-operator/courier"
	// releaseURL is where a release's archives are downloaded from.
	releaseURL = homepage + "/releases/download/v%s/%s"
)

// goreleaserConfig is the part of .goreleaser.yaml the manifest derives from.
type goreleaserConfig struct {
	Builds   []goreleaserBuild   `json:"builds"`
	Archives []goreleaserArchive `json:"archives"`
}

type goreleaserBuild struct {
	ID     string   `json:"id"`
	Binary string   `json:"binary"`
	GOOS   []string `json:"goos"`
	GOARCH []string `json:"goarch"`
}

type goreleaserArchive struct {
	ID              string           `json:"id"`
	Formats         []string         `json:"formats"`
	NameTemplate    string           `json:"name_template"`
	FormatOverrides []formatOverride `json:"format_overrides"`
}

type formatOverride struct {
	GOOS    string   `json:"goos"`
	Formats []string `json:"formats"`
}

// plugin is a krew manifest (krew.googlecontainertools.github.com/v1alpha2 Plugin).
type plugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string     `json:"version"`
		Homepage         string     `json:"homepage"`
		ShortDescription string     `json:"shortDescription"`
		Description      string     `json:"description"`
		Platforms        []platform `json:"platforms"`
	} `json:"spec"`
}

type platform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	Sha256 string `json:"sha256"`
	Bin    string `json:"bin"`
}

const description = `kubectl courier shows what the Courier operator does and why:
"status" sums up every ClusterPropagation, Propagation and workload opted in to
rollout on change (counts, failing targets, pending changes and why they wait),
"why" explains a copy, a copy you expected and do not have, or a workload's
rollouts, from the controllers' own rules. It uses your own RBAC.`

// Generate returns the manifest of release version (0.2.0), with the platforms and
// archive names of the kubectl-courier build in config (.goreleaser.yaml) and the
// digests in checksums (goreleaser's checksums.txt).
func Generate(version string, config, checksums []byte) ([]byte, error) {
	var cfg goreleaserConfig
	if err := yaml.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("reading the goreleaser configuration: %w", err)
	}
	bi := slices.IndexFunc(cfg.Builds, func(b goreleaserBuild) bool { return b.ID == buildID })
	ai := slices.IndexFunc(cfg.Archives, func(a goreleaserArchive) bool { return a.ID == buildID })
	if bi < 0 || ai < 0 {
		return nil, fmt.Errorf("the goreleaser configuration has no %s build and archive", buildID)
	}
	build, archive := cfg.Builds[bi], cfg.Archives[ai]
	name, err := template.New("name").Parse(archive.NameTemplate)
	if err != nil {
		return nil, fmt.Errorf("archive name_template: %w", err)
	}
	sums, err := parseChecksums(checksums)
	if err != nil {
		return nil, err
	}

	var p plugin
	p.APIVersion, p.Kind, p.Metadata.Name = "krew.googlecontainertools.github.com/v1alpha2", "Plugin", pluginName
	p.Spec.Version, p.Spec.Homepage = "v"+version, homepage
	p.Spec.ShortDescription = "See what the Courier operator does, and why"
	p.Spec.Description = description
	for _, goos := range build.GOOS {
		for _, goarch := range build.GOARCH {
			var b bytes.Buffer
			if err := name.Execute(&b, map[string]string{"Version": version, "Os": goos, "Arch": goarch}); err != nil {
				return nil, fmt.Errorf("archive name_template: %w", err)
			}
			file := b.String() + "." + archive.formatFor(goos)
			sum, ok := sums[file]
			if !ok {
				return nil, fmt.Errorf("the checksums list no %s", file)
			}
			pl := platform{URI: fmt.Sprintf(releaseURL, version, file), Sha256: sum, Bin: build.Binary}
			if goos == "windows" {
				pl.Bin += ".exe"
			}
			pl.Selector.MatchLabels = map[string]string{"os": goos, "arch": goarch}
			p.Spec.Platforms = append(p.Spec.Platforms, pl)
		}
	}
	return yaml.Marshal(p)
}

// formatFor is the archive format (file extension) goreleaser uses for goos.
func (a goreleaserArchive) formatFor(goos string) string {
	for _, o := range a.FormatOverrides {
		if o.GOOS == goos && len(o.Formats) > 0 {
			return o.Formats[0]
		}
	}
	if len(a.Formats) > 0 {
		return a.Formats[0]
	}
	return "tar.gz" // goreleaser's default
}

// parseChecksums reads "<sha256>  <file>" lines.
func parseChecksums(data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || len(f[0]) != 64 {
			return nil, fmt.Errorf("checksums: %q is not \"<sha256>  <file>\"", sc.Text())
		}
		out[f[1]] = f[0]
	}
	return out, sc.Err()
}
