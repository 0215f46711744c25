// The 4×8 register tile that the packed products share (asm/gemm.ts's patch kernels, asm/winograd.ts's
// products): A packed with four rows interleaved, so that a step of the depth finds them at one address.
import { fma, storeLanes } from './common';

/** Stores the pairs (e[i], o[i]) of lanes [0, width) as 2·width consecutive floats at p. */
@inline
function storePairs(p: usize, e: v128, o: v128, width: i32): void {
  const lo = i32x4.shuffle(e, o, 0, 4, 1, 5), hi = i32x4.shuffle(e, o, 2, 6, 3, 7);
  if (width >= 4) { v128.store(p, lo); v128.store(p, hi, 16); return; }
  if (width >= 2) { v128.store(p, lo); storeLanes(p + 16, hi, 2 * width - 4); return; }
  if (width == 1) v128.store64_lane(p, lo, 0);
}

/**
 * A 4×8 tile of C = Σ_{k<kn} A[m, k]·B[k, n] from zero, A packed [k][4] (16 bytes a step), B's rows of 8
 * at b + k·ldbB, C's rows ldcB bytes apart; rows past `rowsValid` and lanes past `width` are not stored.
 * With `pairs`, rows 0 and 1 go interleaved (C[0, n], C[1, n], …) to the row at c, rows 2 and 3 to the
 * row at c + ldcB: the kw pairs of the patch input gradient.
 */
@inline
export function packedTile(a: usize, b: usize, ldbB: usize, kn: i32, c: usize, ldcB: usize, rowsValid: i32, width: i32,
                           pairs: bool = false): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k = 0; k < kn; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    a += 16; b += ldbB;
  }
  if (pairs) {
    storePairs(c, c00, c10, width); storePairs(c + 32, c01, c11, width - 4);
    storePairs(c + ldcB, c20, c30, width); storePairs(c + ldcB + 32, c21, c31, width - 4);
    return;
  }
  storeLanes(c, c00, width); storeLanes(c + 16, c01, width - 4);
  if (rowsValid > 1) { storeLanes(c + 1 * ldcB, c10, width); storeLanes(c + 1 * ldcB + 16, c11, width - 4); }
  if (rowsValid > 2) { storeLanes(c + 2 * ldcB, c20, width); storeLanes(c + 2 * ldcB + 16, c21, width - 4); }
  if (rowsValid > 3) { storeLanes(c + 3 * ldcB, c30, width); storeLanes(c + 3 * ldcB + 16, c31, width - 4); }
}
