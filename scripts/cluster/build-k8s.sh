#!/usr/bin/env bash
# Build the Kubernetes binaries (and etcd) from the Go module proxy.
#
#   scripts/cluster/build-k8s.sh OUT_DIR
#
# How: k8s.io/kubernetes is consumed as an ordinary Go module. Its go.mod points
# its "staging" modules (k8s.io/api, k8s.io/client-go, ...) at ./staging, which Go
# ignores for a dependency, so a small wrapper module under .cluster/build/k8s
# requires k8s.io/kubernetes@$K8S_VERSION and `replace`s every staging module with
# the matching published v0.Y.Z. etcd is built in the same module graph (a
# four-line main calling go.etcd.io/etcd/server/v3/etcdmain), at the exact etcd
# version kubernetes itself depends on.
#
# Everything is compiled in ONE `go build` so the shared packages compile once.
# The build is `nice -n 19` so it does not starve other work on the machine.
# A stamp file records the versions; a second run with the same versions is a no-op.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

out="${1:?usage: build-k8s.sh OUT_DIR}"
root="$(cd "$here/../.." && pwd)/.cluster"
work="$root/build/k8s"
stamp="$out/.k8s-build-stamp"
want="k8s=$K8S_VERSION staging=$K8S_STAGING_VERSION etcd=$ETCD_VERSION"

bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  ok=1; for b in "${bins[@]}" etcd; do [[ -x "$out/$b" ]] || ok=0; done
  if [[ $ok == 1 ]]; then echo "k8s binaries up to date ($want)"; exit 0; fi
fi

mkdir -p "$work/cmd/etcd" "$work/deps" "$out"
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
  cloud-provider cluster-bootstrap code-generator component-base component-helpers
  controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
  endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
  sample-apiserver sample-cli-plugin sample-controller)

{
  echo "module local.cluster/k8sbuild"
  echo
  echo "go 1.24.0"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $K8S_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo ")"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m $K8S_STAGING_VERSION"; done
  echo ")"
} > "$work/go.mod"

cat > "$work/cmd/etcd/main.go" <<'EOF'
// etcd server, built from go.etcd.io/etcd/server/v3 at the version pinned in versions.env.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF

# `go mod tidy` keeps only modules that some package of this module imports, and a
# main package cannot be imported, so this file imports each command's library.
cat > "$work/deps/deps.go" <<'EOF'
// Package deps pins the module graph: it imports the libraries behind each command we build.
package deps

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
EOF

# Version stamping, as kubernetes' own hack/lib/version.sh does, so that
# `kubectl version` and the node report the real version instead of v0.0.0.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

pkgs=(); for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
pkgs+=(./cmd/etcd)

cd "$work"
echo "resolving modules for kubernetes $K8S_VERSION (go module proxy)..."
GOFLAGS=-mod=mod nice -n 19 go mod tidy
echo "compiling ${bins[*]} etcd (nice 19; cold build takes tens of minutes on 2 cores)..."
CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}"
echo "$want" > "$stamp"
echo "built into $out: $(cd "$out" && ls | tr '\n' ' ')"
