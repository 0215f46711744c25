// Tiled GEMM core, appended to matmul.wgsl and conv3d.wgsl by engine/backends/webgpu/shaders.ts.
// C[M,N] = A[M,K]·B[K,N]: a workgroup computes a BM×BN tile of C, staging BK-deep slices of A and B in
// workgroup memory. Each thread owns TM×TN outputs spaced BM/TM rows and BN/TN columns apart, so that
// neighbouring threads store neighbouring elements. wid.z = batch · splits + split: a split covers
// k_split of the K range (split-K); its caller sums the splits afterwards.
// Precision: each BK slice is summed with plain FMAs and added to the total with Kahan compensation,
// so the rounding error grows with BK rather than with K. Without it the long sums of a convolution
// (K = Cin·27 up to 6912, or a whole volume for the weight gradient) lose enough digits for train-mode
// batch norm over a few voxels, which cancels most of each value, to miss the 1e-3 gradient bar.
// The including kernel defines the uniform `g` (fields m, n, k, k_split, splits, tile_base) and
//   load_a(batch, m, k) and load_b(batch, k, n), called only with in-range indices,
//   store_c(batch, split, m, n, value).
override BM: u32 = 64u;
override BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
var<workgroup> tile_a: array<f32, BK * BM>;
var<workgroup> tile_b: array<f32, BK * BN>;

@compute @workgroup_size(BN / TN, BM / TM)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let threads = (BM / TM) * (BN / TN);
  let tid = lid.y * (BN / TN) + lid.x;
  let row0 = wid.y * BM;
  let col0 = (wid.x + g.tile_base) * BN;
  let batch = wid.z / g.splits;
  let split = wid.z % g.splits;
  let k_begin = split * g.k_split;
  let k_end = min(g.k, k_begin + g.k_split);
  // Explicit zero constructors: SwiftShader was seen to keep a loop-local `var part: array<f32, 16>;`
  // from the previous iteration instead of zeroing it.
  var acc = array<f32, 16>(); // TM·TN
  var lost = array<f32, 16>(); // Kahan compensation of acc

  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    // A is staged k-fastest (rows of A are contiguous in K), B n-fastest (rows of B in N).
    for (var e = tid; e < BM * BK; e += threads) {
      let m = row0 + e / BK;
      let k = k0 + e % BK;
      var v = 0.0;
      if (m < g.m && k < k_end) { v = load_a(batch, m, k); }
      tile_a[(e % BK) * BM + e / BK] = v;
    }
    for (var e = tid; e < BK * BN; e += threads) {
      let k = k0 + e / BN;
      let n = col0 + e % BN;
      var v = 0.0;
      if (n < g.n && k < k_end) { v = load_b(batch, k, n); }
      tile_b[e] = v;
    }
    workgroupBarrier();
    var part = array<f32, 16>();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, 4>; // TM
      for (var i = 0u; i < TM; i++) { a[i] = tile_a[kk * BM + lid.y + i * (BM / TM)]; }
      for (var j = 0u; j < TN; j++) {
        let b = tile_b[kk * BN + lid.x + j * (BN / TN)];
        for (var i = 0u; i < TM; i++) { part[i * TN + j] = fma(a[i], b, part[i * TN + j]); }
      }
    }
    for (var e = 0u; e < TM * TN; e++) {
      let y = part[e] - lost[e];
      let t = acc[e] + y;
      lost[e] = (t - acc[e]) - y;
      acc[e] = t;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < TM; i++) {
    let m = row0 + lid.y + i * (BM / TM);
    for (var j = 0u; j < TN; j++) {
      let n = col0 + lid.x + j * (BN / TN);
      if (m < g.m && n < g.n) { store_c(batch, split, m, n, acc[i * TN + j]); }
    }
  }
}
