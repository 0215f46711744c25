// Tiled GEMM core, appended to matmul.wgsl and conv3d.wgsl by engine/backends/webgpu/shaders.ts.
// C[M,N] = A[M,K]·B[K,N]: a workgroup computes a BM×BN tile of C, staging BK-deep slices of A and B in
// workgroup memory. Each thread owns TM×TN outputs spaced BM/TM rows and BN/TN columns apart, so that
// neighbouring threads store neighbouring elements. wid.z = batch · splits + split: a split covers
// k_split of the K range (split-K); its caller sums the splits afterwards.
// Precision: each BK slice is summed with plain FMAs and added to the total with Kahan compensation,
// so the rounding error grows with BK rather than with K. Without it the long sums of a convolution
// (K = Cin·27 up to 6912, or a whole volume for the weight gradient) lose enough digits for train-mode
// batch norm over a few voxels, which cancels most of each value, to miss the 1e-3 gradient bar.
// Algebraically the compensation is zero, so a compiler allowed to reassociate (fast math) would
// delete it: each of its steps passes through opaque(), which the compiler cannot see through.
//
// Loads. The operands lhs (A) and rhs (B) are bound as arrays of vec4 so that a tile can be staged
// four floats per load; a single float i is lhs[i / 4][i % 4]. A_VEC and B_VEC pick, per operand, the
// direction of its 16-byte loads, or 0 for one float per load. The host sets them only where the
// operand's runs along that direction are contiguous, start 16-byte aligned and have a length that is
// a multiple of 4 (engine/backends/webgpu/gemm-vec.ts), so a group of four is wholly in or out of range.
//   A_VEC: 0 scalar, 1 along K (A[m, k..k+3]), 2 along M (A[m..m+3, k]);
//   B_VEC: 0 scalar, 1 along N (B[k, n..n+3]), 2 along K (B[k..k+3, n]).
// The including kernel defines the uniform `g` (fields m, n, k, k_split, splits, tile_base, zero),
//   load_a(batch, m, k) and load_b(batch, k, n), called only with in-range indices,
//   a_index(batch, m, k) and b_index(batch, k, n), the flat element of A and B (used by vec4 loads only),
//   store_c(batch, split, m, n, value).
override BM: u32 = 64u;
override BN: u32 = 64u;
override A_VEC: u32 = 0u;
override B_VEC: u32 = 0u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
var<workgroup> tile_a: array<f32, BK * BM>;
var<workgroup> tile_b: array<f32, BK * BN>;

// v itself, through the bits of a uniform that holds 0 at run time (g.zero), so that float algebra
// cannot rewrite an expression across it.
fn opaque(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) | g.zero); }

fn lhs_at(i: u32) -> f32 { return lhs[i >> 2u][i & 3u]; }
fn rhs_at(i: u32) -> f32 { return rhs[i >> 2u][i & 3u]; }

/** A[row0.., k0..k0+BK) into tile_a, stored k-major: tile_a[kk·BM + mm]. */
fn stage_a(tid: u32, threads: u32, batch: u32, row0: u32, k0: u32, k_end: u32) {
  if (A_VEC == 1u) {
    for (var e = tid; e < BM * BK / 4u; e += threads) {
      let mm = e / (BK / 4u);
      let kk = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>();
      if (row0 + mm < g.m && k0 + kk < k_end) { v = lhs[a_index(batch, row0 + mm, k0 + kk) >> 2u]; }
      for (var c = 0u; c < 4u; c++) { tile_a[(kk + c) * BM + mm] = v[c]; }
    }
  } else if (A_VEC == 2u) {
    for (var e = tid; e < BM * BK / 4u; e += threads) {
      let mm = (e % (BM / 4u)) * 4u;
      let kk = e / (BM / 4u);
      var v = vec4<f32>();
      if (row0 + mm < g.m && k0 + kk < k_end) { v = lhs[a_index(batch, row0 + mm, k0 + kk) >> 2u]; }
      for (var c = 0u; c < 4u; c++) { tile_a[kk * BM + mm + c] = v[c]; }
    }
  } else {
    // k-fastest: rows of A are contiguous in K wherever the layout is plain.
    for (var e = tid; e < BM * BK; e += threads) {
      let m = row0 + e / BK;
      let k = k0 + e % BK;
      var v = 0.0;
      if (m < g.m && k < k_end) { v = load_a(batch, m, k); }
      tile_a[(e % BK) * BM + e / BK] = v;
    }
  }
}

/** B[k0..k0+BK), col0..) into tile_b, stored k-major: tile_b[kk·BN + nn]. */
fn stage_b(tid: u32, threads: u32, batch: u32, col0: u32, k0: u32, k_end: u32) {
  if (B_VEC == 1u) {
    for (var e = tid; e < BK * BN / 4u; e += threads) {
      let nn = (e % (BN / 4u)) * 4u;
      let kk = e / (BN / 4u);
      var v = vec4<f32>();
      if (col0 + nn < g.n && k0 + kk < k_end) { v = rhs[b_index(batch, k0 + kk, col0 + nn) >> 2u]; }
      for (var c = 0u; c < 4u; c++) { tile_b[kk * BN + nn + c] = v[c]; }
    }
  } else if (B_VEC == 2u) {
    for (var e = tid; e < BK * BN / 4u; e += threads) {
      let nn = e / (BK / 4u);
      let kk = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>();
      if (col0 + nn < g.n && k0 + kk < k_end) { v = rhs[b_index(batch, k0 + kk, col0 + nn) >> 2u]; }
      for (var c = 0u; c < 4u; c++) { tile_b[(kk + c) * BN + nn] = v[c]; }
    }
  } else {
    for (var e = tid; e < BK * BN; e += threads) {
      let k = k0 + e / BN;
      let n = col0 + e % BN;
      var v = 0.0;
      if (n < g.n && k < k_end) { v = load_b(batch, k, n); }
      tile_b[e] = v;
    }
  }
}

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
    stage_a(tid, threads, batch, row0, k0, k_end);
    stage_b(tid, threads, batch, col0, k0, k_end);
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
      let y = opaque(part[e] - lost[e]);
      let t = opaque(acc[e] + y);
      lost[e] = opaque(t - acc[e]) - y;
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
