// out[i] = a[view a] ∘ b[view b], out contiguous (strided.wgsl). OP numbering: BINARY_OPS in kernels.ts.
override OP: u32;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn apply(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return select(0.0, 1.0, x < y); }
    case 5u: { return select(0.0, 1.0, x <= y); }
    case 6u: { return select(0.0, 1.0, x > y); }
    case 7u: { return select(0.0, 1.0, x >= y); }
    case 8u: { return select(0.0, 1.0, x == y); }
    default: { return select(0.0, 1.0, x != y); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i >= p.total) { return; }
  let o = offsets(i);
  out[i] = apply(a[o.x], b[o.y]);
}
