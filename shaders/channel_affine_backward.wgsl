// Backward of channel_affine.wgsl for one channel per workgroup: gz = gy, zeroed where RELU and
// z ≤ 0 (z recomputed as the forward computed it); gx = gz·scale[ch]; sums[ch] = Σ gz and
// sums[c + ch] = Σ gz·x.
override RELU: bool;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> shift: array<f32>;
@group(0) @binding(5) var<storage, read_write> gx: array<f32>;
@group(0) @binding(6) var<storage, read_write> sums: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = channel_of(wid);
  let live = ch < p.c; // whole workgroups are in or out: the barriers stay uniform
  var sg = 0.0;
  var sgx = 0.0;
  if (live) {
    let s = scale[ch];
    let t = shift[ch];
    for (var k = lid; k < p.n * p.vol; k += WG) {
      let e = channel_element(ch, k);
      let v = x[e];
      var g = gy[e];
      if (RELU && !(affine(v, s, t) > 0.0)) { g = 0.0; }
      gx[e] = g * s;
      sg += g;
      sgx += g * v;
    }
  }
  let total = sum_pairs(lid, sg, sgx);
  if (live && lid == 0u) {
    sums[ch] = total.x;
    sums[p.c + ch] = total.y;
  }
}
