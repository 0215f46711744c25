// out = (RELU ? max(z, 0) : z) + residual, z = x·scale[ch] + shift[ch], over x viewed as [n, c, vol].
// Without RESIDUAL the residual binding holds any buffer and is not read.
override RELU: bool;
override RESIDUAL: bool;
struct Params { total: u32, grid_x: u32, c: u32, vol: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> shift: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i >= p.total) { return; }
  let ch = (i / p.vol) % p.c;
  var z = affine(x[i], scale[ch], shift[ch]);
  if (RELU) { z = relu(z); }
  if (RESIDUAL) { z += residual[i]; }
  out[i] = z;
}
