#!/usr/bin/env bash
# catalog-add-version.sh — cut a new version into the upgrade graph, offline.
#
# Usage: hack/catalog-add-version.sh VERSION [CHANNELS]
#   VERSION   semver without a leading v, newer than every version in the catalog
#   CHANNELS  comma-separated, default candidate,stable
#
# What it does, in order:
#  1. catalog/courier-operator/channels.yaml: the new bundle becomes the head of each
#     channel; it `replaces` the previous head and carries
#     `skipRange: '>=<oldest> <VERSION>'`, so every older install upgrades straight to
#     it and the graph keeps one head, no cycle and no stranded bundle
#     (go run ./hack/bundlegen catalog-add).
#  2. config/manifests/release.yaml records VERSION, replaces and skipRange, and
#     bundle/ is re-rendered with them (the CSV's spec.replaces / olm.skipRange).
#  3. The new bundle is rendered into the catalog with opm and `opm validate` runs
#     (hack/catalog-render-bundle.sh).
# Bump VERSION in the Makefile and the image tag in config/manager too, then run
# `make test` and commit bundle/, catalog/ and config/manifests/release.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:?usage: $0 VERSION [CHANNELS]}"
channels="${2:-candidate,stable}"
name="courier-operator.v${version#v}"

go run ./hack/bundlegen catalog-add -name "$name" -channels "$channels" -update-release
go run ./hack/bundlegen bundle
hack/catalog-render-bundle.sh
echo "added $name: $(go run ./hack/bundlegen catalog-head -channel stable) heads stable" >&2
