#!/bin/sh
# The GPU diagnostic (bench/gpu-diag.ts) beside PyTorch CUDA on a GPU machine that has python3 + torch
# but no Node, no network and no Vulkan loader. Needs only the kit from bench/gpu-prepare.sh
# (bench/gpu-kit, carried to the machine); never calls npm. Run from the repository root:
#   sh bench/gpu.sh [--smoke] [--setup-only] [OUTDIR]
# Six phases, each a process under its own cap, each writing OUTDIR/phase-N-NAME.json as it finishes
# (a phase that times out gets a JSON saying so; the earlier ones stay): 1 environment (a software
# adapter stops the run), 2 correctness, 3 ceilings, 4 layers, 5 ablations, 6 steps; then OUTDIR/gpu.md,
# their tables. Each phase's stdout goes to OUTDIR/phase-N-NAME.txt (stderr to .stderr.txt when there
# is any), and OUTDIR/summary.txt names the date, the adapter, the loaded libvulkan, the torch device
# and each step's status. OUTDIR: default $OUT if set, else bench-gpu-out.
# --smoke (or GPU_SMOKE=1): tiny shapes, a software adapter (SwiftShader) allowed, CPU torch.
# --setup-only: unpack and configure, print the settings as KEY=value lines, run nothing (tests).
# Environment: PYTHON (default python3), GPU_KIT (default bench/gpu-kit), GPU_TIME_LIMIT (seconds
# for everything, default 450; 3600 with --smoke), GPU_WORK (a folder to unpack into, kept; default a temporary one, removed).
# For tests: GPU_ICD_DIRS, GPU_NVIDIA_ROOTS (where to look for Vulkan ICDs and NVIDIA's driver),
# GPU_DEB_TOOL=dpkg|ar|python and GPU_XZ_TOOL=xz|python (force one unpack path).
set -u
start=$(date +%s)
smoke=${GPU_SMOKE:-0}
setup_only=0
outdir=
for arg in "$@"; do
  case $arg in
    --smoke) smoke=1 ;;
    --setup-only) setup_only=1 ;;
    -*) echo "gpu.sh: unknown option $arg" >&2; exit 2 ;;
    *) outdir=$arg ;;
  esac
done
[ -n "$outdir" ] || outdir=${OUT:-bench-gpu-out}
KIT=${GPU_KIT:-bench/gpu-kit}
PYTHON=${PYTHON:-python3}
[ "$smoke" = 1 ] && scale=8 || scale=1  # a software adapter is slow even at tiny shapes
TIME_LIMIT=${GPU_TIME_LIMIT:-$((450 * scale))}
ICD_DIRS=${GPU_ICD_DIRS:-/usr/share/vulkan/icd.d /etc/vulkan/icd.d}
NVIDIA_ROOTS=${GPU_NVIDIA_ROOTS:-/usr}
export PYTHON

die() { echo "gpu.sh: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

[ -f "$KIT/node.xz" ] && [ -f "$KIT/app.tar.xz" ] || die "no kit at $KIT: run sh bench/gpu-prepare.sh where there is network, and carry $KIT"
KIT=$(cd "$KIT" && pwd)
if [ -n "${GPU_WORK:-}" ]; then
  WORK=$GPU_WORK; mkdir -p "$WORK" || die "cannot create $WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/voxgrad-gpu.XXXXXX") || die "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
fi
WORK=$(cd "$WORK" && pwd)

# --- unpacking, with what the machine has: xz or Python's lzma; dpkg, ar + tar, or Python ----------
xz_cat() {
  if [ "${GPU_XZ_TOOL:-auto}" != python ] && have xz; then xz -dc "$1"
  else "$PYTHON" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}
untar_xz() {  # FILE DIR
  if have tar; then xz_cat "$1" | tar -xf - -C "$2"
  else "$PYTHON" -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"
  fi
}
deb_extract() {  # DEB DIR: the package's data files under DIR
  tool=${GPU_DEB_TOOL:-auto}
  if [ "$tool" = auto ]; then
    if have dpkg-deb; then tool=dpkg; elif have ar && have tar; then tool=ar; else tool=python; fi
  fi
  case $tool in
    dpkg) dpkg-deb -x "$1" "$2" ;;
    ar)
      (d=$(mktemp -d "$WORK/deb.XXXXXX") && deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") && cd "$d" && ar x "$deb" &&
        case $(ls data.tar.*) in
          data.tar.xz) xz_cat data.tar.xz | tar -xf - -C "$2" ;;
          data.tar.gz) tar -xzf data.tar.gz -C "$2" ;;
          data.tar.zst) zstd -dc data.tar.zst | tar -xf - -C "$2" ;;
          *) echo "gpu.sh: no data.tar.{xz,gz,zst} in $1" >&2; exit 1 ;;
        esac) ;;
    python)
      "$PYTHON" - "$1" "$2" <<'EOF'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
if data[:8] != b'!<arch>\n':
    sys.exit(f'gpu.sh: {sys.argv[1]} is not an ar archive')
at = 8
while at + 60 <= len(data):
    header = data[at:at + 60]
    name, size = header[:16].decode().strip().rstrip('/'), int(header[48:58])
    body = data[at + 60:at + 60 + size]
    at += 60 + size + (size & 1)
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body), mode='r:*').extractall(sys.argv[2])
        break
else:
    sys.exit(f'gpu.sh: no data.tar member in {sys.argv[1]}')
EOF
      ;;
    *) die "GPU_DEB_TOOL=$tool: expected dpkg, ar or python" ;;
  esac
}

mkdir -p "$WORK/bin" "$WORK/app" "$WORK/vulkan"
xz_cat "$KIT/node.xz" >"$WORK/bin/node" && chmod +x "$WORK/bin/node" || die "could not unpack $KIT/node.xz"
untar_xz "$KIT/app.tar.xz" "$WORK/app" || die "could not unpack $KIT/app.tar.xz"
deb=$(ls "$KIT"/libvulkan1_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "no libvulkan1_*.deb in $KIT"
deb_extract "$deb" "$WORK/vulkan" || die "could not unpack $deb"
vkdir=$(dirname "$(find "$WORK/vulkan" -name 'libvulkan.so.1' | head -n 1)")
[ -e "$vkdir/libvulkan.so.1" ] || die "no libvulkan.so.1 in $deb"
PATH=$WORK/bin:$PATH
LD_LIBRARY_PATH=$vkdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH LD_LIBRARY_PATH
node_version=$(node --version) || die "the kit's node does not run here"
APP=$WORK/app

# --- Vulkan driver: NVIDIA's, written as an ICD json when the driver is there without one ----------
icd_note=
if [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  icd_note="VK_ICD_FILENAMES/VK_DRIVER_FILES given: ${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}"
else
  std_icds=$(for d in $ICD_DIRS; do ls "$d"/*.json 2>/dev/null; done)
  nvidia_std=$(echo "$std_icds" | grep -i nvidia | head -n 1)
  if [ -n "$nvidia_std" ]; then
    icd_note="NVIDIA's ICD in a standard place: $nvidia_std"
  else
    nvidia_json=$(find $NVIDIA_ROOTS -name nvidia_icd.json 2>/dev/null | head -n 1)
    nvidia_lib=$(find $NVIDIA_ROOTS -name libGLX_nvidia.so.0 2>/dev/null | head -n 1)
    if [ -n "$nvidia_json" ]; then
      VK_ICD_FILENAMES=$nvidia_json; export VK_ICD_FILENAMES
      icd_note="NVIDIA's ICD outside the standard places: $nvidia_json"
    elif [ -n "$nvidia_lib" ]; then
      VK_ICD_FILENAMES=$WORK/nvidia_icd.json; export VK_ICD_FILENAMES
      printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$nvidia_lib" >"$VK_ICD_FILENAMES"
      icd_note="wrote $VK_ICD_FILENAMES for $nvidia_lib"
    elif [ -n "$std_icds" ]; then
      icd_note="no NVIDIA driver found; the loader's own ICDs: $(echo $std_icds)"
    else
      icd_note="no Vulkan ICD found (no json in $ICD_DIRS, no libGLX_nvidia.so.0 under $NVIDIA_ROOTS): webgpu will find no hardware adapter"
    fi
  fi
fi
echo "gpu.sh: node $node_version from the kit; libvulkan from $vkdir; $icd_note"

if [ "$setup_only" = 1 ]; then
  echo "NODE=$(command -v node)"
  echo "NODE_VERSION=$node_version"
  echo "LIBVULKAN_DIR=$vkdir"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
  echo "ICD_NOTE=$icd_note"
  echo "APP=$APP"
  exit 0
fi

mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
steps=$outdir/steps.txt
: >"$steps"
deadline=$((start + TIME_LIMIT))
TIMEOUT=
have timeout && TIMEOUT=timeout
failed=0

# run_step NAME CAP_SECONDS COMMAND...: stdout to OUTDIR/NAME.txt, under min(CAP, time left); sets rc
# and status
run_step() {
  name=$1 cap=$(($2 * scale)); shift 2
  left=$((deadline - $(date +%s)))
  if [ "$left" -lt 15 ]; then
    rc=124 status="not run (the ${TIME_LIMIT} s limit was reached)"
    echo "$name: $status" | tee -a "$steps"; failed=1; return
  fi
  [ "$cap" -le "$left" ] || cap=$left
  echo "== $name (at most ${cap} s): $*"
  t0=$(date +%s)
  if [ -n "$TIMEOUT" ]; then
    timeout -k 10 "$cap" "$@" >"$outdir/$name.txt" 2>"$outdir/$name.stderr.txt"
  else
    "$@" >"$outdir/$name.txt" 2>"$outdir/$name.stderr.txt"
  fi
  rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status="timed out after $cap s"; failed=1 ;;
    3) status="refused the adapter (exit 3)"; failed=1 ;;
    *) status="exit $rc"; failed=1 ;;
  esac
  [ -s "$outdir/$name.stderr.txt" ] || rm -f "$outdir/$name.stderr.txt"
  echo "$name: $status ($(($(date +%s) - t0)) s)" | tee -a "$steps"
  tail -n 30 "$outdir/$name.txt"
  [ "$rc" = 0 ] || [ ! -f "$outdir/$name.stderr.txt" ] || tail -n 10 "$outdir/$name.stderr.txt"
}

# Which adapter Dawn gives and which libvulkan the process mapped (the engine's own choice is in each
# benchmark's first line; like it, this tries SwiftShader when there is no other adapter).
cat >"$APP/probe.mjs" <<'EOF'
import { existsSync, readFileSync } from 'node:fs';
import { create } from './node_modules/webgpu/index.js';
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json', instances = [];
const ask = (opts) => { instances.push(create([])); return instances[instances.length - 1].requestAdapter(opts); };
let adapter = await ask({ powerPreference: 'high-performance' });
if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(swiftshader)) {
  process.env.VK_ICD_FILENAMES = swiftshader;
  adapter = await ask({});
}
const info = adapter ? adapter.info : null;
const libvulkan = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\n')
  .map((l) => l.trim().split(/\s+/)[5]).filter((p) => p && /libvulkan\.so/.test(p)))];
console.log(`adapter: ${info ? `${info.vendor} ${info.architecture} (${info.description || info.device})` : 'none'}`);
console.log(`libvulkan: ${libvulkan.join(' ') || 'not loaded'}`);
console.log(JSON.stringify({ adapter: info && { vendor: info.vendor, architecture: info.architecture, device: info.device,
  description: info.description, isFallbackAdapter: info.isFallbackAdapter }, libvulkan, icd: process.env.VK_ICD_FILENAMES ?? null }));
process.exit(0);
EOF

# The PyTorch anchor's device: CUDA when torch sees it, else CPU, said plainly.
torch_line=$("$PYTHON" -c 'import torch; print(torch.__version__, "cuda" if torch.cuda.is_available() else "cpu")' 2>&1 | tail -n 1)
case $torch_line in
  *' cuda') torch_device=cuda; torch_note="torch ${torch_line% cuda} on CUDA" ;;
  *' cpu') torch_device=cpu
    torch_note="torch ${torch_line% cpu}: torch.cuda.is_available() is False, so the PyTorch figures are CPU figures, NOT GPU figures"
    echo "gpu.sh: NOTE: $torch_note" ;;
  *) torch_device=none; torch_note="no torch from $PYTHON ($torch_line): PyTorch anchors not run"; echo "gpu.sh: $torch_note" ;;
esac

# The diagnostic's phases, each under its own cap (seconds on an H100; the estimates, which nobody has
# measured there yet: 5, 20, 20, 40, 40, 90). PyTorch on the GPU, TF32 off; CPU in the smoke run.
diag_args="--out $outdir --torch-device $([ "$torch_device" = cuda ] && echo cuda || echo cpu)"
[ "$smoke" = 1 ] && diag_args="$diag_args --smoke"
run_step adapter 60 node "$APP/probe.mjs"
n=0
for phase_cap in environment:30 correctness:90 ceilings:60 layers:120 ablations:90 steps:150; do
  n=$((n + 1)) phase=${phase_cap%%:*}
  run_step "phase-$n-$phase" "${phase_cap#*:}" node "$APP/build/bench/gpu-diag.js" "$phase" $diag_args
  [ -f "$outdir/phase-$n-$phase.json" ] ||
    printf '{"phase": "%s", "error": "%s"}\n' "$phase" "$status" >"$outdir/phase-$n-$phase.json"
  if [ "$phase" = environment ] && [ "$rc" != 0 ]; then
    echo "gpu.sh: phase 1 did not pass ($status): the other phases are not run" | tee -a "$steps"; break
  fi
done
run_step report 30 node "$APP/build/bench/gpu-diag.js" report --out "$outdir"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -n) $(uname -m)"
  echo "adapter (probe): $(grep -m 1 '^adapter: ' "$outdir/adapter.txt" 2>/dev/null | sed 's/^adapter: //')"
  echo "libvulkan: $(grep -m 1 '^libvulkan: ' "$outdir/adapter.txt" 2>/dev/null | sed 's/^libvulkan: //')"
  echo "vulkan icd: $icd_note"
  echo "node: $node_version (kit)"
  echo "pytorch: $torch_note"
  [ "$smoke" = 1 ] && echo "mode: smoke (tiny shapes; not benchmark figures)"
  echo "kit: $(tr '\n' ';' <"$KIT/kit.txt" 2>/dev/null)"
  echo "steps:"
  sed 's/^/  /' "$steps"
} >"$outdir/summary.txt"
rm -f "$steps"
echo "== summary ($outdir/summary.txt)"
cat "$outdir/summary.txt"
exit "$failed"
