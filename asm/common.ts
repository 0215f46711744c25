// Helpers shared by every kernel: the multiply-add that the build's feature set allows, and how a
// kernel cuts its index space into parts. Kernels take (tid, nt) = (this part, how many parts); the
// host's pool hands parts to threads as they come free.

/** a·b + c; fused (one rounding) in the relaxed-SIMD build where the CPU has FMA. */
@inline
export function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * Start of part `tid` of `nt` over `total` items, in whole units of `align` items so that the
 * boundaries (and with them every vector/tile split) only depend on the part count.
 */
@inline
export function share(total: i32, tid: i32, nt: i32, align: i32): i32 {
  const units = (total + align - 1) / align;
  return min(<i32>((<i64>units * tid) / nt) * align, total);
}

/** Horizontal sum of four lanes. */
@inline
export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Stores the first `n` (0..4) lanes of v at p. */
@inline
export function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Stores the 4 × 4 block whose rows are r0…r3 as its columns, at q, q + strideB, q + 2·strideB, q + 3·strideB. */
@inline
export function storeTransposed(q: usize, strideB: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const lo01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), lo23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const hi01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), hi23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(q, i32x4.shuffle(lo01, lo23, 0, 1, 4, 5)); v128.store(q + strideB, i32x4.shuffle(lo01, lo23, 2, 3, 6, 7));
  v128.store(q + 2 * strideB, i32x4.shuffle(hi01, hi23, 0, 1, 4, 5)); v128.store(q + 3 * strideB, i32x4.shuffle(hi01, hi23, 2, 3, 6, 7));
}

/** Byte address of float element i of the buffer at base. */
@inline
export function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** The heap that the host's allocator manages starts here, above the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
