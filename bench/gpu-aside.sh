#!/bin/sh
# A device call copies the working tree (tracked and untracked-not-ignored files) plus the carried
# paths, 64 MiB in all; models/ and experiments/ alone are larger. This moves them out of the tree
# for the call and back afterwards:
#   sh bench/gpu-aside.sh          # move models/ and experiments/ to ../voxgrad-gpu-aside/, print the size
#   sh bench/gpu-aside.sh --back   # move them back
#   sh bench/gpu-aside.sh --size   # only print what a call would copy (tree + bench/gpu-kit)
# It refuses while a run holds a lock under experiments/ (a training run writes there).
set -eu
cd "$(dirname "$0")/.."
ASIDE=${GPU_ASIDE:-../voxgrad-gpu-aside}
FOLDERS="models experiments"
LIMIT=${GPU_CALL_LIMIT_BYTES:-$((64 * 1024 * 1024))}  # the override is for tests

copied_bytes() {  # tracked files present in the tree, untracked files git does not ignore, and the kit
  { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s -- 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
report() {
  tree=$(copied_bytes)
  kit=$(du -sb bench/gpu-kit 2>/dev/null | cut -f1); kit=${kit:-0}
  total=$((tree + kit))
  echo "gpu-aside: the call would copy $((tree / 1048576)) MiB of tree + $((kit / 1048576)) MiB of kit = $((total / 1048576)) MiB (limit $((LIMIT / 1048576)) MiB)"
  [ "$total" -le "$LIMIT" ] || { echo "gpu-aside: over the limit" >&2; return 1; }
}

case ${1:-} in
  --size) report ;;
  --back)
    for f in $FOLDERS; do
      [ -d "$ASIDE/$f" ] || continue
      [ ! -e "$f" ] || { echo "gpu-aside: $f exists in the tree and in $ASIDE; not overwriting" >&2; exit 1; }
      mv "$ASIDE/$f" "$f"
    done
    rmdir "$ASIDE" 2>/dev/null || true
    echo "gpu-aside: $FOLDERS back in the tree" ;;
  '')
    for lock in $(find experiments -name train.lock 2>/dev/null); do
      pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$lock")
      if [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; then
        echo "gpu-aside: $lock is held by pid $pid (a run is writing there); stop it at a checkpoint first" >&2; exit 1
      fi
    done
    mkdir -p "$ASIDE"
    for f in $FOLDERS; do
      [ -e "$f" ] || continue
      [ ! -e "$ASIDE/$f" ] || { echo "gpu-aside: $ASIDE/$f exists already; run --back first" >&2; exit 1; }
      mv "$f" "$ASIDE/$f"
    done
    echo "gpu-aside: $FOLDERS moved to $ASIDE; put them back with: sh bench/gpu-aside.sh --back"
    report ;;
  *) echo "usage: sh bench/gpu-aside.sh [--back | --size]" >&2; exit 2 ;;
esac
