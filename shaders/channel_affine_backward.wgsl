// The per-channel sums of channel_affine.wgsl's backward, per (channel, chunk): gz = gy, zeroed where
// RELU and z ≤ 0 (z recomputed as the forward computed it); the chunk's Σ gz and Σ gz·x go to
// partial [2, c, chunks], which a row reduction sums into sums[ch] and sums[c + ch].
override RELU: bool;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> shift: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.y;
  let range = chunk_range(wid.x);
  let s = scale[ch];
  let t = shift[ch];
  var sg = 0.0;
  var sgx = 0.0;
  for (var k = range.x + lid; k < range.y; k += WG) {
    let e = channel_element(ch, k);
    let v = x[e];
    var g = gy[e];
    if (RELU && !relu_passes(affine(v, s, t))) { g = 0.0; }
    sg += g;
    sgx += g * v;
  }
  let total = sum_pairs(lid, sg, sgx);
  if (lid == 0u) {
    partial[ch * p.chunks + wid.x] = total.x;
    partial[(p.c + ch) * p.chunks + wid.x] = total.y;
  }
}
