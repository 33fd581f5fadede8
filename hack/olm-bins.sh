#!/usr/bin/env bash
# olm-bins.sh — provide the non-Kubernetes binaries the local cluster needs:
# kwok (fake nodes), opm (serves the file-based catalog) and OLM's olm and catalog
# operators (run as local processes).
#
# Usage: hack/olm-bins.sh TOOL...
#   TOOL is any of: kwok opm olm catalog
# Prints, for every TOOL in the order given, the directory holding it on stdout (one
# line each; progress goes to stderr), so
#   KWOK_DIR="$(hack/olm-bins.sh kwok)"
# works. Binaries are built once from source through the Go module proxy and cached
# under ${XDG_CACHE_HOME:-~/.cache}/courier/bin/<tool>-<version>/; a cached binary is
# returned instantly. Builds run one at a time (they take 1–2 min each on 2 cores).
#
# Why build from source: the machines this project runs on may reach only the Go
# module proxy, and these tools publish no Go-installable versions list
# (`go install module/cmd@version` fails for operator-framework modules), so each
# tool is built from a throwaway module that requires the exact version.
set -euo pipefail

KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
OPM_VERSION="${OPM_VERSION:-v1.61.0}"
OLM_VERSION="${OLM_VERSION:-v0.38.0}"
# OLM's go.mod pins the operator-registry it was released with; keep them in step.
OLM_REGISTRY_VERSION="${OLM_REGISTRY_VERSION:-v1.61.0}"

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/courier"
BIN="$CACHE/bin"
WORK="$CACHE/build-modules"

log() { echo "olm-bins: $*" >&2; }

version_of() {
  case "$1" in
    kwok) echo "$KWOK_VERSION" ;;
    opm) echo "$OPM_VERSION" ;;
    olm|catalog) echo "$OLM_VERSION" ;;
    *) log "unknown tool $1 (want kwok, opm, olm or catalog)"; exit 2 ;;
  esac
}

dir_of() { echo "$BIN/$1-$(version_of "$1")"; }

# prepare_module DIR MODULE VERSION [extra go mod edit args...]
# writes a throwaway module that requires MODULE@VERSION, once.
prepare_module() {
  local mod="$1" module="$2" version="$3"; shift 3
  if [ -f "$mod/go.sum" ]; then return; fi
  mkdir -p "$mod"
  (
    cd "$mod"
    printf 'module courier.local/toolbuild\n\ngo 1.26\n' > go.mod
    go mod edit -require "$module@$version" "$@"
  )
}

# build TOOL MODDIR PACKAGE TAGS
build() {
  local tool="$1" mod="$2" pkg="$3" tags="$4"
  local out; out="$(dir_of "$tool")"
  mkdir -p "$out"
  log "building $tool $(version_of "$tool") from source ($pkg)"
  local start=$SECONDS
  (
    cd "$mod"
    # -mod=mod resolves and records the package's dependencies on first use.
    CGO_ENABLED=0 go build -mod=mod -trimpath -tags "$tags" -ldflags "-s -w" \
      -o "$out/$tool.tmp" "$pkg"
  )
  mv "$out/$tool.tmp" "$out/$tool"
  log "built $tool in $((SECONDS - start)) s"
}

ensure() {
  local tool="$1"
  local out; out="$(dir_of "$tool")"
  if [ -x "$out/$tool" ]; then return; fi
  # One build at a time, across concurrent callers too: the loser waits, then finds
  # the binary cached.
  mkdir -p "$CACHE"
  exec 9>"$CACHE/olm-bins.lock"
  flock 9
  if [ -x "$out/$tool" ]; then exec 9>&-; return; fi
  case "$tool" in
    kwok)
      local mod="$WORK/kwok-$KWOK_VERSION"
      prepare_module "$mod" sigs.k8s.io/kwok "$KWOK_VERSION"
      build kwok "$mod" sigs.k8s.io/kwok/cmd/kwok "" ;;
    opm)
      local mod="$WORK/opm-$OPM_VERSION"
      prepare_module "$mod" github.com/operator-framework/operator-registry "$OPM_VERSION"
      build opm "$mod" github.com/operator-framework/operator-registry/cmd/opm "json1,containers_image_openpgp" ;;
    olm|catalog)
      local mod="$WORK/olm-$OLM_VERSION"
      prepare_module "$mod" github.com/operator-framework/operator-lifecycle-manager "$OLM_VERSION" \
        -require "github.com/operator-framework/operator-registry@$OLM_REGISTRY_VERSION"
      build "$tool" "$mod" "github.com/operator-framework/operator-lifecycle-manager/cmd/$tool" "json1" ;;
  esac
  exec 9>&-
}

if [ $# -eq 0 ]; then
  log "usage: $0 TOOL... (kwok opm olm catalog)"
  exit 2
fi
for t in "$@"; do version_of "$t" >/dev/null; done
for t in "$@"; do ensure "$t"; done
for t in "$@"; do dir_of "$t"; done
