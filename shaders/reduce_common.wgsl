// Shared by reduce_tree.wgsl and reduce_tree_subgroup.wgsl (prepended by engine/backends/webgpu/shaders.ts).
// x viewed as [outer, r, inner]: workgroup (chunk, column) reduces `chunk` elements of one column's r
// axis. With one chunk it writes the result; otherwise one partial per chunk, laid out [column, chunk]
// so that the next pass is the same kernel with inner = 1.
// OP: 0 sum, 1 max, 2 argmax. Argmax partials are (value, index) pairs; PAIRS_IN reads such pairs.
override OP: u32;
override PAIRS_IN: bool = false;
struct Params { outer: u32, r: u32, inner: u32, chunk: u32, nchunks: u32, zero: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const NO_INDEX: f32 = 3.0e38;

/** The starting value of a fold: 0 for sums, (-inf, no index) otherwise. */
fn identity() -> vec2<f32> {
  return vec2<f32>(select(special(NEG_INF_BITS, p.zero), 0.0, OP == 0u), NO_INDEX);
}

// Folds (v, i) into (acc, at): sum adds, max keeps NaN, argmax keeps the larger value, then
// the first. Argmax never sees NaN here (see argmax_key).
fn fold(acc: f32, at: f32, v: f32, i: f32) -> vec2<f32> {
  if (OP == 0u) { return vec2<f32>(acc + v, 0.0); }
  if (OP == 1u) { return select(vec2<f32>(acc, 0.0), vec2<f32>(v, 0.0), takes_max(acc, v)); }
  return select(vec2<f32>(acc, at), vec2<f32>(v, i), v > acc || (v == acc && i < at));
}

// Argmax as the other backends define it (a later element wins only when it compares larger): a NaN
// first element is never beaten, a NaN elsewhere never wins. As an order-free fold: +inf at index 0
// (which wins every tie by its index), and a NaN elsewhere left out.
fn argmax_key(v: f32, k: u32) -> vec2<f32> {
  if (!is_nan(v)) { return vec2<f32>(v, f32(k)); }
  if (k == 0u) { return vec2<f32>(special(POS_INF_BITS, p.zero), 0.0); }
  return identity();
}

/** One thread's fold over its share (every WG-th element) of the workgroup's chunk. */
fn gather(column: u32, chunk: u32, lid: u32) -> vec2<f32> {
  let base = (column / p.inner) * p.r * p.inner + column % p.inner;
  let start = chunk * p.chunk;
  let end = min(p.r, start + p.chunk);
  var r = identity();
  for (var k = start + lid; k < end; k += WG) {
    let e = base + k * p.inner;
    if (PAIRS_IN) {
      r = fold(r.x, r.y, x[2u * e], x[2u * e + 1u]);
    } else {
      let v = select(vec2<f32>(x[e], f32(k)), argmax_key(x[e], k), OP == 2u);
      r = fold(r.x, r.y, v.x, v.y);
    }
  }
  return r;
}

fn emit(column: u32, chunk: u32, r: vec2<f32>) {
  if (p.nchunks == 1u) {
    out[column] = select(r.x, r.y, OP == 2u);
  } else if (OP == 2u) {
    let slot = column * p.nchunks + chunk;
    out[2u * slot] = r.x;
    out[2u * slot + 1u] = r.y;
  } else {
    out[column * p.nchunks + chunk] = r.x;
  }
}

// The workgroup's (value, index) pairs, folded pairwise into slot 0 by fold_tree.
var<workgroup> vals: array<f32, WG>;
var<workgroup> idxs: array<f32, WG>;

/** Folds slots [0, 2·first_half) of vals/idxs into slot 0; call from uniform control flow. */
fn fold_tree(lid: u32, first_half: u32) {
  for (var half = first_half; half > 0u; half = half / 2u) {
    workgroupBarrier();
    if (lid < half) {
      let r = fold(vals[lid], idxs[lid], vals[lid + half], idxs[lid + half]);
      vals[lid] = r.x;
      idxs[lid] = r.y;
    }
  }
}
