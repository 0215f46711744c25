// The 4×8 register tile that the packed products share (asm/gemm.ts's patch kernels, asm/winograd.ts's
// products): A packed with four rows interleaved, so that a step of the depth finds them at one address.
import { fma, storeLanes } from './common';

/**
 * A 4×8 tile of C = Σ_{k<kn} A[m, k]·B[k, n] from zero, A packed [k][4] (16 bytes a step), B's rows of 8
 * at b + k·ldbB, C's rows ldcB bytes apart; rows past `rowsValid` and lanes past `width` are not stored.
 */
@inline
export function packedTile(a: usize, b: usize, ldbB: usize, kn: i32, c: usize, ldcB: usize, rowsValid: i32, width: i32): void {
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
  storeLanes(c, c00, width); storeLanes(c + 16, c01, width - 4);
  if (rowsValid > 1) { storeLanes(c + 1 * ldcB, c10, width); storeLanes(c + 1 * ldcB + 16, c11, width - 4); }
  if (rowsValid > 2) { storeLanes(c + 2 * ldcB, c20, width); storeLanes(c + 2 * ldcB + 16, c21, width - 4); }
  if (rowsValid > 3) { storeLanes(c + 3 * ldcB, c30, width); storeLanes(c + 3 * ldcB + 16, c31, width - 4); }
}
