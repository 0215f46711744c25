// Shared by the elementwise kernels (prepended by engine/backends/webgpu/shaders.ts): 256 threads per
// workgroup on a 2-D grid of workgroups, because one dimension holds at most 65535 of them.
const WG: u32 = 256u;

fn flat_id(wid: vec3<u32>, lid: u32, grid_x: u32) -> u32 {
  return (wid.y * grid_x + wid.x) * WG + lid;
}

// NaN and infinity may not come from WGSL constant expressions, so they are built from the bits of a
// value the compiler cannot fold (`zero` is a uniform that holds 0 at run time).
fn special(bits: u32, zero: u32) -> f32 {
  return bitcast<f32>(bits | zero);
}
const NAN_BITS: u32 = 0x7fc00000u;
const NEG_INF_BITS: u32 = 0xff800000u;
const POS_INF_BITS: u32 = 0x7f800000u;
