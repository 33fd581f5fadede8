// Command krewmanifest writes the krew plugin manifest of kubectl-courier from a
// release's checksums: the platforms and archive names come from .goreleaser.yaml
// (the kubectl-courier build and archive), so the manifest cannot name an archive
// the release does not have.
//
//	go run ./hack/krewmanifest -version 0.2.0 -checksums dist/checksums.txt -out dist/krew/courier.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	version := flag.String("version", "", "the release version, without the v (0.2.0)")
	checksums := flag.String("checksums", "dist/checksums.txt", "goreleaser's checksums file")
	config := flag.String("goreleaser", ".goreleaser.yaml", "the goreleaser configuration")
	out := flag.String("out", "dist/krew/courier.yaml", "where to write the manifest (its file name must be the plugin's: courier.yaml)")
	flag.Parse()
	if err := run(*version, *checksums, *config, *out); err != nil {
		fmt.Fprintln(os.Stderr, "krewmanifest:", err)
		os.Exit(1)
	}
}

func run(version, checksumsPath, configPath, out string) error {
	if version == "" {
		return fmt.Errorf("-version is required")
	}
	cfg, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	sums, err := os.ReadFile(checksumsPath)
	if err != nil {
		return err
	}
	m, err := Generate(version, cfg, sums)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, m, 0o644)
}
