// Per (channel, chunk): the chunk's mean and its sum of squared deviations from that mean, in two
// passes over the chunk; channel_moments_merge.wgsl combines the chunks. partial is [c, chunks, 2].
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.y;
  let range = chunk_range(wid.x);
  var s = 0.0;
  for (var k = range.x + lid; k < range.y; k += WG) { s += x[channel_element(ch, k)]; }
  let mean = sum_pairs(lid, s, 0.0).x / f32(range.y - range.x);
  var ss = 0.0;
  for (var k = range.x + lid; k < range.y; k += WG) {
    let d = x[channel_element(ch, k)] - mean;
    ss += d * d;
  }
  let m2 = sum_pairs(lid, ss, 0.0).x;
  if (lid == 0u) {
    let at = 2u * (ch * p.chunks + wid.x);
    partial[at] = mean;
    partial[at + 1u] = m2;
  }
}
