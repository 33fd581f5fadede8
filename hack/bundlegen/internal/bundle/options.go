package bundle

import "strings"

// Options are the release facts of one bundle.
type Options struct {
	// Package is the OLM package name, e.g. courier-operator.
	Package string
	// Version is the bundle's semantic version without a leading v, e.g. 0.1.0.
	Version string
	// Replaces names the CSV this one upgrades from (empty for the first release).
	Replaces string
	// SkipRange is the olm.skipRange annotation (e.g. ">=0.1.0 <0.2.0"), if any.
	SkipRange string
	// Channels the bundle is published in; DefaultChannel must be one of them.
	Channels       []string
	DefaultChannel string
	// ProjectLayout is the Operator SDK project layout recorded in the metadata.
	ProjectLayout string
	// Platforms are the os/arch pairs the manager image is built for (from
	// .goreleaser.yaml), e.g. linux/amd64: the CSV's operatorframework.io/os.* and
	// arch.* labels, which OperatorHub filters by, say exactly these.
	Platforms []string
}

// CSVName is the CSV's metadata.name: <package>.v<version>.
func (o Options) CSVName() string { return o.Package + ".v" + o.Version }

// Annotations are the bundle's metadata/annotations.yaml entries; the
// bundle.Dockerfile carries the same pairs as labels.
func (o Options) Annotations() [][2]string {
	return [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", o.Package},
		{"operators.operatorframework.io.bundle.channels.v1", strings.Join(o.Channels, ",")},
		{"operators.operatorframework.io.bundle.channel.default.v1", o.DefaultChannel},
		{"operators.operatorframework.io.metrics.builder", "courier-bundlegen"},
		{"operators.operatorframework.io.metrics.mediatype.v1", "metrics+v1"},
		{"operators.operatorframework.io.metrics.project_layout", o.ProjectLayout},
		{"operators.operatorframework.io.test.mediatype.v1", "scorecard+v1"},
		{"operators.operatorframework.io.test.config.v1", "tests/scorecard/"},
	}
}
