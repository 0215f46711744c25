// 3D convolution as implicit GEMM on the tiled core (gemm_core.wgsl): the im2col matrix is never
// stored, load_b gathers it from the volume on the fly. MODE picks one of the three products
// (|o| = output voxels, |i| = input voxels, |k| = kernel taps, nb = batch size):
//   0 forward       y[n,co,o]   M = Cout  N = nb·|o|   K = Cin·|k|   A = w   B = x at o·s − p + t·d
//   1 input grad    dx[n,ci,i]  M = Cin   N = nb·|i|   K = Cout·|k|  A = w   B = dy at the o whose tap t reads i
//   2 weight grad   dw[co,ci,t] M = Cout  N = Cin·|k|  K = nb·|o|    A = dy  B = x at o·s − p + t·d
//   3 input grad when kernel = stride, no padding or dilation, and in = out·stride (V-Net's k2 s2 convs):
//     every input voxel has exactly one tap, so mode 1 would multiply 7 of 8 terms by zero. Instead
//     wid.z = tap t, and each tap is its own GEMM: dx[n,ci,o·s+t] = Σco w[co,ci,t]·dy[n,co,o]
//                     M = Cin   N = nb·|o|   K = Cout      A = w at tap t   B = dy
// Mode 2's K is the whole volume, so it runs split-K (one partial dw per split, summed by a reduce pass).
// Bias epilogue (HAS_BIAS, modes 0, 1 and 3): out gets v + bias[m], m being the output's channel, so
// conv3d and the transposed convolution (mode 1 or 3 as a forward) need no broadcast-add pass.
// Vec4 loads (gemm_core.wgsl): A is read directly in every mode; B is a gather except in mode 3 and,
// in modes 0 and 2, for pointwise geometry (kernel 1, stride 1, no padding: input voxel = output
// voxel), where b_index gives its element; pointwise input gradients take mode 3. The host picks the
// loads (engine/backends/webgpu/gemm-vec.ts).
override MODE: u32;
override HAS_BIAS: bool = false;
struct Gemm {
  m: u32, n: u32, k: u32, k_split: u32,
  splits: u32, tile_base: u32, zero: u32, batch: u32,
  cin: u32, cout: u32, kvol: u32, in_vol: u32,
  out_vol: u32,
  in_size: vec4<i32>,   // D, H, W
  out_size: vec4<i32>,
  kernel: vec4<i32>,
  stride: vec4<i32>,
  padding: vec4<i32>,
  dilation: vec4<i32>,
}
@group(0) @binding(0) var<uniform> g: Gemm;
@group(0) @binding(1) var<storage, read> lhs: array<vec4<f32>>;  // w (modes 0, 1, 3) or dy (mode 2)
@group(0) @binding(2) var<storage, read> rhs: array<vec4<f32>>;  // x (modes 0, 2) or dy (modes 1, 3)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;  // [out channels]; another operand when !HAS_BIAS

fn unflatten(i: u32, size: vec4<i32>) -> vec3<i32> {
  let w = u32(size.z);
  let hw = u32(size.y) * w;
  return vec3<i32>(i32(i / hw), i32((i % hw) / w), i32(i % w));
}

fn flatten(v: vec3<i32>, size: vec4<i32>) -> u32 {
  return u32((v.x * size.y + v.y) * size.z + v.z);
}

// x[n, ci] under tap t of output voxel o; 0 in the padding.
fn gather_x(n: u32, ci: u32, o: u32, t: u32) -> f32 {
  let pos = unflatten(o, g.out_size) * g.stride.xyz - g.padding.xyz + unflatten(t, g.kernel) * g.dilation.xyz;
  if (any(pos < vec3<i32>(0)) || any(pos >= g.in_size.xyz)) { return 0.0; }
  return rhs_at((n * g.cin + ci) * g.in_vol + flatten(pos, g.in_size));
}

// dy[n, co] at the output voxel whose tap t reads input voxel i; 0 where no output voxel does.
fn gather_dy(n: u32, co: u32, i: u32, t: u32) -> f32 {
  let reach = unflatten(i, g.in_size) + g.padding.xyz - unflatten(t, g.kernel) * g.dilation.xyz;
  let o = reach / g.stride.xyz;
  if (any(reach < vec3<i32>(0)) || any(o * g.stride.xyz != reach) || any(o >= g.out_size.xyz)) { return 0.0; }
  return rhs_at((n * g.cout + co) * g.out_vol + flatten(o, g.out_size));
}

fn a_index(batch: u32, m: u32, k: u32) -> u32 {
  if (MODE == 0u) { return m * g.k + k; }
  if (MODE == 3u) { return (k * g.cin + m) * g.kvol + batch; }
  if (MODE == 1u) { return ((k / g.kvol) * g.cin + m) * g.kvol + k % g.kvol; }
  return ((k / g.out_vol) * g.cout + m) * g.out_vol + k % g.out_vol;
}

fn load_a(batch: u32, m: u32, k: u32) -> f32 { return lhs_at(a_index(batch, m, k)); }

// The element of B without a gather: mode 3 always, modes 0 and 2 for pointwise geometry only.
fn b_index(batch: u32, k: u32, j: u32) -> u32 {
  if (MODE == 0u) { return ((j / g.out_vol) * g.cin + k) * g.in_vol + j % g.out_vol; }
  if (MODE == 3u) { return ((j / g.out_vol) * g.cout + k) * g.out_vol + j % g.out_vol; }
  return ((k / g.out_vol) * g.cin + j) * g.in_vol + k % g.out_vol;
}

fn load_b(batch: u32, k: u32, j: u32) -> f32 {
  if (MODE == 0u) { return gather_x(j / g.out_vol, k / g.kvol, j % g.out_vol, k % g.kvol); }
  if (MODE == 1u) { return gather_dy(j / g.in_vol, k / g.kvol, j % g.in_vol, k % g.kvol); }
  if (MODE == 3u) { return rhs_at(b_index(batch, k, j)); }
  return gather_x(k / g.out_vol, j / g.kvol, k % g.out_vol, j % g.kvol);
}

fn store_c(batch: u32, split: u32, m: u32, j: u32, sum: f32) {
  var v = sum;
  if (HAS_BIAS) { v += bias[m]; }
  if (MODE == 0u) {
    out[((j / g.out_vol) * g.cout + m) * g.out_vol + j % g.out_vol] = v;
  } else if (MODE == 1u) {
    out[((j / g.in_vol) * g.cin + m) * g.in_vol + j % g.in_vol] = v;
  } else if (MODE == 3u) {
    let i = unflatten(j % g.out_vol, g.out_size) * g.stride.xyz + unflatten(batch, g.kernel);
    out[((j / g.out_vol) * g.cin + m) * g.in_vol + flatten(i, g.in_size)] = v;
  } else {
    out[(split * g.m + m) * g.n + j] = v;
  }
}
