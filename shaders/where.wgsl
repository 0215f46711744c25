// out[i] = cond[view c] != 0 ? a[view a] : b[view b], out contiguous (strided.wgsl).
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> cond: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i >= p.total) { return; }
  let o = offsets(i);
  out[i] = select(b[o.y], a[o.x], nonzero(cond[o.z]));
}
