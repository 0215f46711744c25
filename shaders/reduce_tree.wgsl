// Tree reduction in workgroup memory (reduce_common.wgsl has the layout and the fold).
var<workgroup> vals: array<f32, WG>;
var<workgroup> idxs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let mine = gather(wid.y, wid.x, lid);
  vals[lid] = mine.x;
  idxs[lid] = mine.y;
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    workgroupBarrier();
    if (lid < half) {
      let r = fold(vals[lid], idxs[lid], vals[lid + half], idxs[lid + half]);
      vals[lid] = r.x;
      idxs[lid] = r.y;
    }
  }
  if (lid == 0u) { emit(wid.y, wid.x, vec2<f32>(vals[0], idxs[0])); }
}
