// One thread per channel combines its chunks' (mean, M2) pairs (Chan et al.'s parallel variance):
// mean = Σ nₖ·meanₖ / n and M2 = Σ M2ₖ + nₖ·(meanₖ − mean)²; stats[ch] = mean, stats[c + ch] = M2 / n.
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ch = gid.x;
  if (ch >= p.c) { return; }
  let count = f32(p.n * p.vol);
  var s = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    let r = chunk_range(k);
    s += f32(r.y - r.x) * partial[2u * (ch * p.chunks + k)];
  }
  let mean = s / count;
  var m2 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    let r = chunk_range(k);
    let at = 2u * (ch * p.chunks + k);
    let d = partial[at] - mean;
    m2 += partial[at + 1u] + f32(r.y - r.x) * d * d;
  }
  stats[ch] = mean;
  stats[p.c + ch] = m2 / count;
}
