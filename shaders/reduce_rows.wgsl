// x viewed as [outer, r, inner] → out [outer, inner], one thread per output walking r. Used when there
// are enough outputs to fill the device or r is short; reads are coalesced along inner.
// OP: 0 sum, 1 max (NaN wins, as in the reference), 2 argmax (first maximum, written as a float; a NaN
// first element is never beaten and a later NaN never wins, as in the reference).
override OP: u32;
struct Params { outer: u32, r: u32, inner: u32, grid_x: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i >= p.outer * p.inner) { return; }
  let base = (i / p.inner) * p.r * p.inner + i % p.inner;
  if (OP == 0u) {
    var acc = 0.0;
    for (var k = 0u; k < p.r; k++) { acc += x[base + k * p.inner]; }
    out[i] = acc;
  } else if (OP == 1u) {
    var acc = x[base];
    for (var k = 1u; k < p.r; k++) {
      let v = x[base + k * p.inner];
      if (takes_max(acc, v)) { acc = v; }
    }
    out[i] = acc;
  } else {
    var best = x[base];
    var at = 0u;
    for (var k = 1u; k < p.r; k++) {
      let v = x[base + k * p.inner];
      if (!is_nan(best) && !is_nan(v) && v > best) { best = v; at = k; }
    }
    out[i] = f32(at);
  }
}
