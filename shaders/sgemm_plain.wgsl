// A plain single-precision GEMM with 16-byte loads, for the ceilings of bench/lib/gpu/ceilings.ts:
// C[M,N] = A[M,K]·B[K,N], row-major, M and N multiples of 64 and K of 16. It has the backend's tiling
// (gemm_core.wgsl: a 64×64 tile per workgroup of 16×16 threads, 4×4 outputs each, 16-deep slices in
// workgroup memory) without its compensation, bounds tests and gathers, so that its rate beside
// PyTorch's separates what Dawn and the driver allow from what our kernels add. Not used in training.
struct Dims { m: u32, n: u32, k: u32, unused: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> d: Dims;

const TILE: u32 = 64u;
const BK: u32 = 16u;
// k-major: sa[k·16 + q] holds A[4q..4q+3, k] of the tile, sb[k·16 + q] holds B[k, 4q..4q+3]
var<workgroup> sa: array<vec4<f32>, 256>;
var<workgroup> sb: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  let tid = lid.y * 16u + lid.x;
  // this thread's share of each slice: four k of one row of A, four n of one row of B
  let ar = tid / 4u;
  let ak = (tid % 4u) * 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < d.k; k0 += BK) {
    let va = a[((row0 + ar) * d.k + k0 + ak) / 4u];
    for (var j = 0u; j < 4u; j++) { sa[(ak + j) * 16u + ar / 4u][ar % 4u] = va[j]; }
    sb[tid] = b[((k0 + tid / 16u) * d.n + col0) / 4u + tid % 16u];
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = sa[kk * 16u + lid.y];
      let bv = sb[kk * 16u + lid.x];
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) { c[((row0 + lid.y * 4u + i) * d.n + col0) / 4u + lid.x] = acc[i]; }
}
