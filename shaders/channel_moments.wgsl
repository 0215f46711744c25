// stats[ch] = mean and stats[c + ch] = biased variance of channel ch, in two passes over its values
// (the second sums squared deviations from the first's mean, so no cancellation between large sums).
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = channel_of(wid);
  let live = ch < p.c; // whole workgroups are in or out: the barriers stay uniform
  let count = p.n * p.vol;
  var s = 0.0;
  if (live) {
    for (var k = lid; k < count; k += WG) { s += x[channel_element(ch, k)]; }
  }
  let mean = sum_pairs(lid, s, 0.0).x / f32(count);
  var ss = 0.0;
  if (live) {
    for (var k = lid; k < count; k += WG) {
      let d = x[channel_element(ch, k)] - mean;
      ss += d * d;
    }
  }
  let variance = sum_pairs(lid, ss, 0.0).x / f32(count);
  if (live && lid == 0u) {
    stats[ch] = mean;
    stats[p.c + ch] = variance;
  }
}
