// Shared by copy, binary and where (prepended by engine/backends/webgpu/shaders.ts): walks an index
// space of up to 12 dimensions and yields one element offset per operand (a, b, c) from its strides.
struct Strided {
  total: u32, rank: u32, grid_x: u32, _pad: u32,
  base: vec4<i32>,               // element offset of operands a, b, c
  shape: array<vec4<u32>, 3>,
  sa: array<vec4<i32>, 3>,
  sb: array<vec4<i32>, 3>,
  sc: array<vec4<i32>, 3>,
}
@group(0) @binding(0) var<uniform> p: Strided;

fn offsets(flat: u32) -> vec3<i32> {
  var rest = flat;
  var o = p.base.xyz;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let n = p.shape[d / 4][d % 4];
    let c = i32(rest % n);
    rest = rest / n;
    o += c * vec3<i32>(p.sa[d / 4][d % 4], p.sb[d / 4][d % 4], p.sc[d / 4][d % 4]);
  }
  return o;
}
