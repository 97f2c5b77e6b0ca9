#!/usr/bin/env bash
# Build the project's own image from its Dockerfile, without any registry.
#
#   scripts/cluster/build-app-image.sh IMAGE_REF      (e.g. ghcr.io/example/shop:0.1.0)
#
# 1. A Node 24 base image, localhost/node:24, made locally: a minimal Debian
#    bookworm root file system from Debian's packages (debootstrap, the mirror apt
#    already uses) plus the project's Node.js 24 (the `node` first on PATH: npm run
#    puts .tools/node-<version> there, see scripts/node.mjs) and Debian's npm
#    and this machine's CA bundle (NODE_EXTRA_CA_CERTS), which `npm ci` needs here.
# 2. `buildah bud --build-arg NODE_IMAGE=localhost/node:24` on the repo's Dockerfile,
#    unchanged; the build stage's `npm ci` reaches the npm registry (host network).
# 3. The result is saved as a docker-archive in .cluster/images/app.tar, tagged
#    with IMAGE_REF so the manifests' image name resolves without a pull.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
root="$repo/.cluster"
ref="${1:?usage: build-app-image.sh IMAGE_REF}"
buildah=(nice -n 19 buildah --root "$root/state/buildah" --runroot "$root/run/buildah" --storage-driver vfs)
mkdir -p "$root/images" "$root/build"

# --- 1. base image -----------------------------------------------------------
if ! "${buildah[@]}" inspect --type image localhost/node:24 >/dev/null 2>&1; then
  rootfs="$root/build/node-base-rootfs"
  if [[ ! -x $rootfs/bin/sh ]]; then
    rm -rf "$rootfs"
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    nice -n 19 debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}"
  fi
  # The project's Node.js (24 LTS) and npm (Debian's, under /usr/lib/node_modules; npm 10 runs on Node 24).
  major=$(node -p 'process.versions.node.split(".")[0]')
  if (( major < 24 )); then echo "build-app-image.sh: node on PATH is $(node --version); run it through npm run cluster (Node 24)" >&2; exit 1; fi
  install -m 0755 "$(readlink -f "$(command -v node)")" "$rootfs/usr/bin/node"
  rm -rf "$rootfs/usr/lib/node_modules"; mkdir -p "$rootfs/usr/lib/node_modules"
  cp -a /usr/lib/node_modules/npm "$rootfs/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/bin/npx"
  # This machine reaches the npm registry through a TLS-inspecting egress proxy whose
  # CA is in the host's bundle; the Dockerfile's `npm ci` must trust it too.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  c=$("${buildah[@]}" from scratch)
  mnt=$("${buildah[@]}" mount "$c")
  cp -a "$rootfs/." "$mnt/"
  "${buildah[@]}" umount "$c" >/dev/null
  "${buildah[@]}" config --cmd '["node"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$c"
  "${buildah[@]}" commit --quiet "$c" localhost/node:24 >/dev/null
  "${buildah[@]}" rm "$c" >/dev/null
  echo "base image localhost/node:24 ($(node --version) on Debian bookworm minbase)"
fi

# --- 2. the project's image from its Dockerfile --------------------------------
cd "$repo"
"${buildah[@]}" bud --network host --layers=false --build-arg NODE_IMAGE=localhost/node:24 \
  -f Dockerfile -t "$ref" .

# --- 3. archive for containerd -------------------------------------------------
rm -f "$root/images/app.tar"
"${buildah[@]}" push --quiet "$ref" "docker-archive:$root/images/app.tar:$ref"
echo "$ref" > "$root/images/app.ref"
echo "image $ref -> $root/images/app.tar"
