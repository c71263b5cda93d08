#!/usr/bin/env bash
# Builds the Kubernetes test stack from the Go module proxy (no other download):
#   etcd            ./cmd/etcd (etcd's own etcdmain), at the etcd version go.mod resolves
#   kube-apiserver  k8s.io/kubernetes/cmd/kube-apiserver at KUBE_VERSION (versions.env)
#   kwok            sigs.k8s.io/kwok/cmd/kwok at KWOK_VERSION, with kwok's own go.mod
#
#   bash infra/kube/build.sh <out-dir>    build the three binaries into <out-dir>/bin
#   bash infra/kube/build.sh --gomod      rewrite go.mod/go.sum for KUBE_VERSION (after a bump)
#   bash infra/kube/build.sh --versions   print the directory name: kube-v<k>-etcd-v<e>-kwok-v<w>
#
# Why a module of our own: k8s.io/kubernetes requires its staging modules (k8s.io/api, ...) at the
# placeholder version v0.0.0 and maps them with `replace => ./staging/src/...`; replace directives work
# only in the main module, so `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.x` is refused. Here
# go.mod replaces each staging module with its published tag v0.<minor>.<patch>.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"

say() { printf '[infra:kube] %s\n' "$*"; }
die() { printf '[infra:kube] %s\n' "$*" >&2; exit 1; }

GO=""
need_go() {
  GO=$(command -v go || true)
  [ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; }
  [ -n "$GO" ] || die "go not found: install Go 1.26 or newer (the machine image has it in /usr/local/go; Debian 12's golang is too old)."
}
# Never download a toolchain: a dependency that needs a newer Go fails loudly instead.
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

# The etcd server version that go.mod resolved (a require line, direct or indirect).
etcd_version() {
  sed -n 's#^[[:space:]]*\(require[[:space:]]*\)\{0,1\}go\.etcd\.io/etcd/server/v3 \(v[^[:space:]]*\).*#\2#p' "$HERE/go.mod" | head -n1
}

dir_name() {
  local e
  e=$(etcd_version)
  [ -n "$e" ] || die "go.etcd.io/etcd/server/v3 is not in $HERE/go.mod: run bash infra/kube/build.sh --gomod"
  printf 'kube-v%s-etcd-%s-kwok-%s\n' "$KUBE_VERSION" "$e" "$KWOK_VERSION"
}

gomod() {
  need_go
  cd "$HERE"
  local staging mod m n
  staging="v0.${KUBE_VERSION#1.}"
  rm -f go.mod go.sum
  GOFLAGS=-mod=mod "$GO" mod init hetu.local/infra/kube
  # k8s.io/kubernetes's own go.mod, from the module proxy
  mod=$(GOFLAGS=-mod=mod "$GO" mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" |
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$mod" ] || die "could not download k8s.io/kubernetes@v$KUBE_VERSION"
  # kubernetes's own language version, so that any Go 1.26.x builds it
  "$GO" mod edit -go="$(sed -n 's/^go \(.*\)$/\1/p' "$mod" | head -n1)"
  n=0
  # every k8s.io module that kubernetes requires at v0.0.0 is a staging module: pin its published tag
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) v0\.0\.0\([[:space:]].*\)\{0,1\}$#\1#p' "$mod" | sort -u); do
    "$GO" mod edit -replace="$m=$m@$staging"
    n=$((n + 1))
  done
  say "k8s.io/kubernetes v$KUBE_VERSION: $n staging modules replaced by their $staging tags"
  # the same language defaults as kubernetes's own build
  godebug=$(sed -n 's/^godebug \(.*\)$/\1/p' "$mod" | head -n1)
  [ -z "$godebug" ] || "$GO" mod edit -godebug="$godebug"
  GOFLAGS=-mod=mod "$GO" get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION"
  GOFLAGS=-mod=mod "$GO" mod tidy
  say "go.mod: etcd server $(etcd_version)"
}

build() {
  local out=$1 minor ldf p t0 t
  need_go
  "$GO" version
  mkdir -p "$out/bin"
  out=$(cd "$out" && pwd)
  cd "$HERE"
  minor=${KUBE_VERSION#1.}
  minor=${minor%%.*}
  # version stamps (what `kube-apiserver --version` and /version report; kwokctl parses them)
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  t0=$(date +%s)
  say "building kube-apiserver v$KUBE_VERSION"
  "$GO" build -trimpath -ldflags "$ldf" -o "$out/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  t=$(date +%s)
  say "kube-apiserver: $((t - t0)) s"
  say "building etcd $(etcd_version)"
  "$GO" build -trimpath -ldflags "-s -w" -o "$out/bin/etcd" ./cmd/etcd
  say "etcd: $(($(date +%s) - t)) s"
  t=$(date +%s)
  say "building kwok $KWOK_VERSION"
  # kwok's go.mod has no replace directives: go install of the tagged module, its own dependencies
  GOFLAGS=-buildvcs=false GOBIN="$out/bin" "$GO" install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  say "kwok: $(($(date +%s) - t)) s"
  say "built in $(($(date +%s) - t0)) s: $(du -sh "$out/bin" | cut -f1) in $out/bin"
}

case "${1:-}" in
  --gomod) gomod ;;
  --versions) dir_name ;;
  "" | -*) die "usage: build.sh <out-dir> | --gomod | --versions" ;;
  *) build "$1" ;;
esac
