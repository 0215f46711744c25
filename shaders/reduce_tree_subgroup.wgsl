enable subgroups;
// Tree reduction with subgroup operations (devices with the `subgroups` feature; reduce_common.wgsl
// has the layout and the fold): each subgroup folds itself in registers, one lane per subgroup puts
// the result in workgroup memory, and a short tree over those (at most WG / SG_MIN) finishes.
// Slots are taken with an atomic counter because WGSL does not say how lanes map to subgroups.
// Max and argmax only, whose results do not depend on the order of evaluation: sums keep the
// workgroup tree's order (see the V-Net parity note in engine/backends/webgpu/backend.ts).
override SG_MIN: u32 = 4u; // the adapter's smallest subgroup size
var<workgroup> filled: atomic<u32>;

fn subgroup_fold(v: vec2<f32>) -> vec2<f32> {
  let top = subgroupMax(v.x);
  if (OP == 1u) { return vec2<f32>(select(top, special(NAN_BITS, p.zero), subgroupAny(is_nan(v.x))), 0.0); }
  return vec2<f32>(top, subgroupMin(select(NO_INDEX, v.y, v.x == top)));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let folded = subgroup_fold(gather(wid.y, wid.x, lid));
  let none = identity();
  vals[lid] = none.x;
  idxs[lid] = none.y;
  if (lid == 0u) { atomicStore(&filled, 0u); }
  workgroupBarrier();
  if (lane == 0u) {
    let slot = atomicAdd(&filled, 1u);
    vals[slot] = folded.x;
    idxs[slot] = folded.y;
  }
  fold_tree(lid, WG / (2u * SG_MIN));
  if (lid == 0u) { emit(wid.y, wid.x, vec2<f32>(vals[0], idxs[0])); }
}
