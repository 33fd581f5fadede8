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
# the bundle image (the embedded olm.bundle.object properties stay).
"$OPM" render bundle -o yaml \
  | sed "0,/^image: \"\"\$/s||image: $BUNDLE_IMG_BASE:v$version|" > "$out.tmp"
grep -q "^image: $BUNDLE_IMG_BASE:v$version\$" "$out.tmp" || { echo "opm render output has no top-level image line" >&2; exit 1; }
mv "$out.tmp" "$out"
"$OPM" validate catalog
echo "rendered $name into $out; catalog valid" >&2
