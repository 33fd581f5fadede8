#!/usr/bin/env bash
# catalog-render-bundle.sh — render bundle/ into the file-based catalog as
# catalog/courier-operator/bundles/<csv>.yaml with the pinned opm (offline), pointing
# the entry at the bundle image, then validate the catalog.
#
# Usage: hack/catalog-render-bundle.sh
#   BUNDLE_IMG_BASE (default ghcr.io/courier-operator/courier-operator-bundle) names
#   the image `make bundle-build bundle-push` publishes; the tag is v<version>.
# Run it whenever bundle/ changes (`make catalog-render`); the catalog test fails
# until the catalog holds exactly the current bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

BUNDLE_IMG_BASE="${BUNDLE_IMG_BASE:-ghcr.io/courier-operator/courier-operator-bundle}"
OPM="$(hack/olm-bins.sh opm)/opm"

csv="$(ls bundle/manifests/*.clusterserviceversion.yaml)"
name="$(sed -n 's/^  name: \(courier-operator\.v.*\)$/\1/p' "$csv" | head -1)"
version="${name#courier-operator.v}"
[ -n "$version" ] || { echo "cannot read the CSV name from $csv" >&2; exit 1; }

out="catalog/courier-operator/bundles/$name.yaml"
mkdir -p "$(dirname "$out")"
# opm renders a bundle directory with an empty image; published catalogs point at
# the bundle image. Rendering that entry again with the migration replaces the
# embedded manifests (olm.bundle.object, which newer catalogs reject) with the one
# olm.csv.metadata property the console needs: OLM unpacks the bundle image itself.
# (opm migrates catalogs, not bundle directories, hence two renders. The end-to-end
# suite serves its own catalog with embedded objects: its kwok nodes cannot run
# unpack Jobs.)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$OPM" render bundle -o yaml \
  | sed "0,/^image: \"\"\$/s||image: $BUNDLE_IMG_BASE:v$version|" > "$tmp/entry.yaml"
grep -q "^image: $BUNDLE_IMG_BASE:v$version\$" "$tmp/entry.yaml" || { echo "opm render output has no top-level image line" >&2; exit 1; }
"$OPM" render "$tmp" -o yaml --migrate-level=bundle-object-to-csv-metadata > "$out.tmp"
mv "$out.tmp" "$out"
"$OPM" validate catalog
echo "rendered $name into $out; catalog valid" >&2
