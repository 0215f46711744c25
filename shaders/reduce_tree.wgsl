// Tree reduction in workgroup memory (reduce_common.wgsl has the layout, the fold and the tree).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let mine = gather(wid.y, wid.x, lid);
  vals[lid] = mine.x;
  idxs[lid] = mine.y;
  fold_tree(lid, WG / 2u);
  if (lid == 0u) { emit(wid.y, wid.x, vec2<f32>(vals[0], idxs[0])); }
}
