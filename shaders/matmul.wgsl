// Batched matrix product out[b] = op(A[b])·op(B[b]) on the tiled GEMM core (gemm_core.wgsl).
// TRANS_A / TRANS_B: the operand is stored transposed ([K,M] / [N,K]).
override TRANS_A: bool = false;
override TRANS_B: bool = false;
struct Gemm { m: u32, n: u32, k: u32, k_split: u32, splits: u32, tile_base: u32, zero: u32 }
@group(0) @binding(0) var<uniform> g: Gemm;
@group(0) @binding(1) var<storage, read> lhs: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> rhs: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn a_index(batch: u32, m: u32, k: u32) -> u32 {
  let base = batch * g.m * g.k;
  if (TRANS_A) { return base + k * g.m + m; }
  return base + m * g.k + k;
}

fn b_index(batch: u32, k: u32, n: u32) -> u32 {
  let base = batch * g.k * g.n;
  if (TRANS_B) { return base + n * g.k + k; }
  return base + k * g.n + n;
}

fn load_a(batch: u32, m: u32, k: u32) -> f32 { return lhs_at(a_index(batch, m, k)); }
fn load_b(batch: u32, k: u32, n: u32) -> f32 { return rhs_at(b_index(batch, k, n)); }

fn store_c(batch: u32, split: u32, m: u32, n: u32, v: f32) {
  out[((batch * g.splits + split) * g.m + m) * g.n + n] = v;
}
