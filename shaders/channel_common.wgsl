// Shared by the per-channel kernels (prepended by engine/backends/webgpu/shaders.ts): x viewed as
// [n, c, vol]; workgroup (chunk, channel) takes `chunk` consecutive values of the channel's n·vol,
// so that large volumes with few channels still fill the device.
struct Params { n: u32, c: u32, vol: u32, chunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: Params;

/** Flat index of the k-th of channel ch's n·vol values. */
fn channel_element(ch: u32, k: u32) -> u32 {
  let b = k / p.vol;
  return (b * p.c + ch) * p.vol + (k - b * p.vol);
}

/** The range [start, end) of channel values that chunk `chunk` covers. */
fn chunk_range(chunk: u32) -> vec2<u32> {
  let start = chunk * p.chunk;
  return vec2<u32>(start, min(start + p.chunk, p.n * p.vol));
}

var<workgroup> part_a: array<f32, WG>;
var<workgroup> part_b: array<f32, WG>;

/** Sums each thread's (a, b) over the workgroup and returns the totals to every thread. */
fn sum_pairs(lid: u32, a: f32, b: f32) -> vec2<f32> {
  part_a[lid] = a;
  part_b[lid] = b;
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    workgroupBarrier();
    if (lid < half) {
      part_a[lid] += part_a[lid + half];
      part_b[lid] += part_b[lid + half];
    }
  }
  workgroupBarrier();
  let r = vec2<f32>(part_a[0], part_b[0]);
  workgroupBarrier();
  return r;
}
