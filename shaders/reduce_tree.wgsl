// x viewed as [outer, r, inner]: workgroup (chunk, column) reduces `chunk` elements of one column's r
// axis with a tree in workgroup memory. With one chunk it writes the result; otherwise one partial per
// chunk, laid out [column, chunk] so that the next pass is the same kernel with inner = 1.
// OP: 0 sum, 1 max, 2 argmax. Argmax partials are (value, index) pairs; PAIRS_IN reads such pairs.
override OP: u32;
override PAIRS_IN: bool = false;
struct Params { outer: u32, r: u32, inner: u32, chunk: u32, nchunks: u32, zero: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const NO_INDEX: f32 = 3.0e38;
var<workgroup> vals: array<f32, WG>;
var<workgroup> idxs: array<f32, WG>;

// Folds (v, i) into (acc, at): sum adds, max keeps NaN, argmax keeps the larger value, then the first.
fn fold(acc: f32, at: f32, v: f32, i: f32) -> vec2<f32> {
  if (OP == 0u) { return vec2<f32>(acc + v, 0.0); }
  if (OP == 1u) { return select(vec2<f32>(acc, 0.0), vec2<f32>(v, 0.0), v > acc || v != v); }
  return select(vec2<f32>(acc, at), vec2<f32>(v, i), v > acc || (v == acc && i < at));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let column = wid.y;
  let base = (column / p.inner) * p.r * p.inner + column % p.inner;
  let start = wid.x * p.chunk;
  let end = min(p.r, start + p.chunk);
  var acc = select(special(NEG_INF_BITS, p.zero), 0.0, OP == 0u);
  var at = NO_INDEX;
  for (var k = start + lid; k < end; k += WG) {
    let e = base + k * p.inner;
    if (PAIRS_IN) {
      let r = fold(acc, at, x[2u * e], x[2u * e + 1u]);
      acc = r.x; at = r.y;
    } else {
      let r = fold(acc, at, x[e], f32(k));
      acc = r.x; at = r.y;
    }
  }
  vals[lid] = acc;
  idxs[lid] = at;
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    workgroupBarrier();
    if (lid < half) {
      let r = fold(vals[lid], idxs[lid], vals[lid + half], idxs[lid + half]);
      vals[lid] = r.x; idxs[lid] = r.y;
    }
  }
  if (lid != 0u) { return; }
  if (p.nchunks == 1u) {
    out[column] = select(vals[0], idxs[0], OP == 2u);
  } else if (OP == 2u) {
    let slot = column * p.nchunks + wid.x;
    out[2u * slot] = vals[0];
    out[2u * slot + 1u] = idxs[0];
  } else {
    out[column * p.nchunks + wid.x] = vals[0];
  }
}
