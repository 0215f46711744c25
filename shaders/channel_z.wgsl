// The affine map of the normalisation epilogue, shared by channel_affine.wgsl and
// channel_affine_backward.wgsl so that the backward's ReLU mask sees bit-identical z.
fn affine(x: f32, scale: f32, shift: f32) -> f32 {
  return fma(x, scale, shift);
}
