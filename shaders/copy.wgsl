// out[view c] = src[view a] over the index space (strided.wgsl).
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i >= p.total) { return; }
  let o = offsets(i);
  out[o.z] = src[o.x];
}
