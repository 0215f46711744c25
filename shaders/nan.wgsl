// NaN-aware helpers, appended by engine/backends/webgpu/shaders.ts to the kernels that need them (after
// grid.wgsl). A driver compiling with fast math (Metal before macOS 15 under Dawn, which offers no
// switch for it; Vulkan drivers that assume no NaNs) may fold `v != v` to false or swap a comparison
// for its NaN-blind opposite, so NaN is tested on the bits (exponent all ones, mantissa non-zero),
// an integer test that float optimisations do not touch.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > POS_INF_BITS;
}

// max(v, 0) that lets NaN through, as PyTorch's ReLU does; the outer select keeps NaN even where
// fast math rewrites the inner one as a NaN-dropping max.
fn relu(v: f32) -> f32 {
  return select(select(v, 0.0, v <= 0.0), v, is_nan(v));
}

// The ReLU backward mask: false for z ≤ 0 and for NaN (PyTorch's threshold_backward: z > 0).
fn relu_passes(z: f32) -> bool {
  return z > 0.0 && !is_nan(z);
}

// max(acc, v) is v: v is NaN, or larger than an acc that is not NaN (a NaN, once in, stays).
fn takes_max(acc: f32, v: f32) -> bool {
  return !is_nan(acc) && (is_nan(v) || v > acc);
}

// c ≠ 0 with NaN counted as non-zero (as c !== 0 in the ref backend), which a NaN-blind `c != 0.0`
// could drop; ±0 are the values whose bits other than the sign are all zero.
fn nonzero(c: f32) -> bool {
  return (bitcast<u32>(c) & 0x7fffffffu) != 0u;
}
