#!/usr/bin/env bash
# control-plane-bins.sh — provide version-stamped Kubernetes control-plane binaries.
#
# Usage: hack/control-plane-bins.sh [BINARY...]
#   BINARY is any of: etcd kube-apiserver kubectl kube-controller-manager kube-scheduler
#   (default: etcd kube-apiserver kubectl, what envtest needs).
# Prints the directory holding them on stdout (progress goes to stderr), so
#   export KUBEBUILDER_ASSETS="$(hack/control-plane-bins.sh)"
# works.
#
# Order of preference, so a normal machine behaves like every kubebuilder project:
#   1. binaries already in setup-envtest's store for KUBE_VERSION (instant);
#   2. the normal `setup-envtest use` download;
#   3. a build from source through the Go module proxy (the only way on machines
#      without access to the envtest release bucket). The result goes into
#      setup-envtest's own store, so step 1 and `setup-envtest use -i` find it.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GOOS="$(go env GOOS)"; GOARCH="$(go env GOARCH)"
STORE="${ENVTEST_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
DIR="$STORE/k8s/${KUBE_VERSION}-${GOOS}-${GOARCH}"

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(etcd kube-apiserver kubectl)

log() { echo "control-plane-bins: $*" >&2; }

missing() {
  local m=()
  for b in "${want[@]}"; do [ -x "$DIR/$b" ] || m+=("$b"); done
  echo "${m[@]:-}"
}

if [ -z "$(missing)" ]; then echo "$DIR"; exit 0; fi

# 2. The normal download, only for the envtest trio it serves.
if [ -z "${COURIER_SKIP_DOWNLOAD:-}" ]; then
  log "trying setup-envtest download of Kubernetes $KUBE_VERSION"
  if (cd "$ROOT/hack/tools" && timeout 60 go tool setup-envtest use "$KUBE_VERSION" \
        --bin-dir "$STORE" -p path >/dev/null 2>&1); then
    log "downloaded"
  else
    log "download failed; building from source through the Go module proxy"
  fi
fi
if [ -z "$(missing)" ]; then echo "$DIR"; exit 0; fi

mkdir -p "$DIR"
# The throwaway build modules are kept (not the binaries' store) so building one more
# binary later does not resolve the module graph again.
WORK="${XDG_CACHE_HOME:-$HOME/.cache}/courier/build-modules"
mkdir -p "$WORK"

stamp() {
  local major minor date
  major="${KUBE_VERSION%%.*}"; minor="${KUBE_VERSION#*.}"; minor="${minor%%.*}"
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local f=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    f+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=courier-source-build"
  done
  echo "-s -w$f"
}

build_kube() {
  local name="$1" mod="$WORK/kube-$KUBE_VERSION"
  if [ ! -f "$mod/go.mod" ]; then
    mkdir -p "$mod"
    log "preparing a module for k8s.io/kubernetes v$KUBE_VERSION (first time: downloads ~300 MB of modules)"
    (
      cd "$mod"
      printf 'module courier.local/kubebuild\n\ngo 1.26\n' > go.mod
      printf 'package main\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\nfunc main() {}\n' > main.go
      go mod edit -require "k8s.io/kubernetes@v$KUBE_VERSION"
      local kmod
      kmod="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
      # Every staging module kubernetes replaces with ./staging/... is published as v0.X.Y.
      local staging="v0.${KUBE_VERSION#*.}"
      grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$kmod" | awk '{print $1}' | while read -r m; do
        go mod edit -replace "$m=$m@$staging"
      done
      go mod tidy >/dev/null 2>&1 || go mod tidy >&2
    )
  fi
  log "building $name v$KUBE_VERSION from source (apiserver ~4 min cold, kubectl ~20 s, kcm ~1.5 min)"
  # -mod=mod lets the build add the go.sum entries of packages the stub main.go does
  # not import (kubectl's, the controller-manager's).
  (cd "$mod" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$(stamp)" -o "$DIR/$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$DIR/$name.tmp" "$DIR/$name"
}

build_etcd() {
  local mod="$WORK/etcd-$ETCD_VERSION"
  mkdir -p "$mod"
  log "building etcd $ETCD_VERSION from source (~30 s)"
  (
    cd "$mod"
    printf 'module courier.local/etcdbuild\n\ngo 1.26\n' > go.mod
    printf 'package main\n\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\n\nfunc main() {}\n' > main.go
    go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go mod tidy >/dev/null 2>&1 || go mod tidy >&2
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$DIR/etcd.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$DIR/etcd.tmp" "$DIR/etcd"
}

for b in $(missing); do
  case "$b" in
    etcd) build_etcd ;;
    kube-apiserver|kubectl|kube-controller-manager|kube-scheduler) build_kube "$b" ;;
    *) log "unknown binary $b"; exit 2 ;;
  esac
done
log "ready in $DIR"
echo "$DIR"
