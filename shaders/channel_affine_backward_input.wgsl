// gx = gz·scale[ch] + x·a[ch] + b[ch] with gz = gy, zeroed where RELU and z ≤ 0 (z recomputed as
// channel_affine.wgsl computed it); x·a + b is the gradient that reaches x through its statistics.
override RELU: bool;
struct Params { total: u32, grid_x: u32, c: u32, vol: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> shift: array<f32>;
@group(0) @binding(5) var<storage, read> a: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;
@group(0) @binding(7) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i >= p.total) { return; }
  let ch = (i / p.vol) % p.c;
  let s = scale[ch];
  let v = x[i];
  var g = gy[i];
  if (RELU && !relu_passes(affine(v, s, shift[ch]))) { g = 0.0; }
  gx[i] = g * s + (v * a[ch] + b[ch]);
}
