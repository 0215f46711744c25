// The 4×8 register tile of every product (asm/gemm.ts, asm/winograd.ts), and its packed form: A packed
// with four rows interleaved, so that a step of the depth finds them at one address.
import { fma, storeLanes } from './common';

// A function returns one value: the tile's eight accumulators (rows 0–3 × columns 0–3, 4–7) come back
// in these. Globals belong to an instance, and every thread has its own.
export let acc00 = f32x4(0, 0, 0, 0), acc01 = f32x4(0, 0, 0, 0), acc10 = f32x4(0, 0, 0, 0), acc11 = f32x4(0, 0, 0, 0);
export let acc20 = f32x4(0, 0, 0, 0), acc21 = f32x4(0, 0, 0, 0), acc30 = f32x4(0, 0, 0, 0), acc31 = f32x4(0, 0, 0, 0);

/** Sets the accumulators that tile4x8 resumes from. */
@inline
export function resumeFrom(c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  acc00 = c00; acc01 = c01; acc10 = c10; acc11 = c11; acc20 = c20; acc21 = c21; acc30 = c30; acc31 = c31;
}

/** Where the tile finds A_i[k], the value of row i at step k. */
export const enum ARows {
  /** At a_i + k·aStep. */
  STRIDED,
  /** At a_i + 4·u32[aCol + 4k]. */
  GATHERED,
  /** At a0 + 4i + k·aStep: the four rows interleaved. */
  PACKED,
}

/**
 * acc[i] (+)= Σ_{k<kn} A_i[k]·B_k[0..8] for the rows i < 4, from zero or (`resume`) from the accumulators,
 * a fused multiply-add at a time in k order, whichever kernel runs it. B_k lies at b + k·bStep, or
 * (`tabled`) at u32[b + 4k] + nOff. The modes are constants at every call, so that each inlined copy
 * keeps only its own addressing.
 */
@inline
export function tile4x8(a0: usize, a1: usize, a2: usize, a3: usize, aStep: usize, aCol: usize, b: usize, bStep: usize,
                        nOff: usize, kn: i32, rows: ARows, tabled: bool, resume: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (resume) { c00 = acc00; c01 = acc01; c10 = acc10; c11 = acc11; c20 = acc20; c21 = acc21; c30 = acc30; c31 = acc31; }
  const packed = rows == ARows.PACKED, gathered = rows == ARows.GATHERED;
  let o: usize = 0, bk = b;
  for (let k = 0; k < kn; k++) {
    if (gathered) { o = <usize>load<u32>(aCol) << 2; aCol += 4; }
    if (tabled) { bk = <usize>load<u32>(b) + nOff; b += 4; }
    const b0 = v128.load(bk), b1 = v128.load(bk, 16);
    let av = v128.load32_splat(a0 + o);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = packed ? v128.load32_splat(a0, 4) : v128.load32_splat(a1 + o);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = packed ? v128.load32_splat(a0, 8) : v128.load32_splat(a2 + o);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = packed ? v128.load32_splat(a0, 12) : v128.load32_splat(a3 + o);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    if (!gathered) a0 += aStep;
    if (rows == ARows.STRIDED) { a1 += aStep; a2 += aStep; a3 += aStep; }
    if (!tabled) bk += bStep;
  }
  acc00 = c00; acc01 = c01; acc10 = c10; acc11 = c11; acc20 = c20; acc21 = c21; acc30 = c30; acc31 = c31;
}

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
  tile4x8(a, 0, 0, 0, 16, 0, b, ldbB, 0, kn, ARows.PACKED, false, false);
  const c00 = acc00, c01 = acc01, c10 = acc10, c11 = acc11, c20 = acc20, c21 = acc21, c30 = acc30, c31 = acc31;
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
