// The two matrix products every heavy kernel reduces to, register-tiled and vectorised:
//   gemmRows: C[m, n] = Σ_k A[m, k] · B_k[n]   (B given as a table of row addresses, contiguous in n)
//   gemmDot:  C[m, j] += Σ_l A[m, l] · B_j[l]  (both operands contiguous along the reduction)
// A row-address table lets a convolution point B's rows straight into a padded input volume, each
// kernel tap being the same volume shifted by a constant (engine/backends/wasm/conv.ts).
import { at, fma, hsum, share, storeLanes, storeTransposed } from './common';
import { acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, ARows, packedTile, resumeFrom, tile4x8 } from './tile';

const MR = 4;      // rows of A per register tile
const NR = 8;      // columns of C per register tile (two vectors)
const KC = 256;    // depth of the k-blocks that keep a B panel in cache
const SG = 2;      // strips of a patch panel that every block of 4 outputs runs over in turn: they stay in L1, y gets whole lines

@inline
function tile(a: usize, ldaB: usize, rp: usize, kn: i32, nOff: usize, c: usize, ldcB: usize, rowsValid: i32, width: i32, init: bool): void {
  // rows past the edge of A repeat its last row; their results are not stored
  const a1 = rowsValid > 1 ? a + ldaB : a, a2 = rowsValid > 2 ? a + 2 * ldaB : a1, a3 = rowsValid > 3 ? a + 3 * ldaB : a2;
  if (init) {
    const zero = f32x4.splat(0), r1 = rowsValid > 1, r2 = rowsValid > 2, r3 = rowsValid > 3;
    resumeFrom(v128.load(c), v128.load(c, 16),
               r1 ? v128.load(c + 1 * ldcB) : zero, r1 ? v128.load(c + 1 * ldcB, 16) : zero,
               r2 ? v128.load(c + 2 * ldcB) : zero, r2 ? v128.load(c + 2 * ldcB, 16) : zero,
               r3 ? v128.load(c + 3 * ldcB) : zero, r3 ? v128.load(c + 3 * ldcB, 16) : zero);
  }
  tile4x8(a, a1, a2, a3, 4, 0, rp, 0, nOff, kn, ARows.STRIDED, true, init);
  const c00 = acc00, c01 = acc01, c10 = acc10, c11 = acc11, c20 = acc20, c21 = acc21, c30 = acc30, c31 = acc31;
  if (width == NR) {
    v128.store(c, c00); v128.store(c, c01, 16);
    if (rowsValid > 1) { v128.store(c + 1 * ldcB, c10); v128.store(c + 1 * ldcB, c11, 16); }
    if (rowsValid > 2) { v128.store(c + 2 * ldcB, c20); v128.store(c + 2 * ldcB, c21, 16); }
    if (rowsValid > 3) { v128.store(c + 3 * ldcB, c30); v128.store(c + 3 * ldcB, c31, 16); }
    return;
  }
  storeLanes(c, c00, width); storeLanes(c + 16, c01, width - 4);
  if (rowsValid > 1) { storeLanes(c + 1 * ldcB, c10, width); storeLanes(c + 1 * ldcB + 16, c11, width - 4); }
  if (rowsValid > 2) { storeLanes(c + 2 * ldcB, c20, width); storeLanes(c + 2 * ldcB + 16, c21, width - 4); }
  if (rowsValid > 3) { storeLanes(c + 3 * ldcB, c30, width); storeLanes(c + 3 * ldcB + 16, c31, width - 4); }
}

/**
 * Two rows of C × 16 columns over kn, as tile: for products with one or two rows of A (the 1×1×1 head of
 * two classes), where the 4-row tile would spend half its multiplies on copies of a row.
 */
@inline
function tile2(a: usize, ldaB: usize, rp: usize, kn: i32, nOff: usize, c: usize, ldcB: usize, rowsValid: i32, init: bool): void {
  let a0 = a, a1 = rowsValid > 1 ? a + ldaB : a;
  let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  if (init) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c02 = v128.load(c, 32); c03 = v128.load(c, 48);
    if (rowsValid > 1) { c10 = v128.load(c + ldcB); c11 = v128.load(c + ldcB, 16); c12 = v128.load(c + ldcB, 32); c13 = v128.load(c + ldcB, 48); }
  }
  for (let k = 0; k < kn; k++) {
    const b = <usize>load<u32>(rp) + nOff;
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32), b3 = v128.load(b, 48);
    let av = v128.load32_splat(a0);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01); c02 = fma(av, b2, c02); c03 = fma(av, b3, c03);
    av = v128.load32_splat(a1);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11); c12 = fma(av, b2, c12); c13 = fma(av, b3, c13);
    a0 += 4; a1 += 4;
    rp += 4;
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(c, c02, 32); v128.store(c, c03, 48);
  if (rowsValid > 1) { v128.store(c + ldcB, c10); v128.store(c + ldcB, c11, 16); v128.store(c + ldcB, c12, 32); v128.store(c + ldcB, c13, 48); }
}

/**
 * C[m, n] (=, or += with accumulate) Σ_k A[m·lda + k]·B_k[n], `rows` a u32 table of K byte addresses. Tiles read up to NR−1 floats past a B row's last
 * column (the host keeps slack there); those lanes are never stored. Work is cut by column tiles, or by
 * row blocks when C is narrow (the deep, small layers: their B panel then stays in cache while A streams).
 */
export function gemmRows(M: i32, N: i32, K: i32, a: usize, lda: i32, rows: usize, c: usize, ldc: i32, accumulate: i32, tid: i32, nt: i32): void {
  if (M <= 2) {
    gemmTwoRows(M, N, K, a, lda, rows, c, ldc, accumulate, tid, nt);
    return;
  }
  const blocks = (M + MR - 1) / MR, tiles = (N + NR - 1) / NR;
  const byColumns = tiles > 8 && tiles >= 4 * nt;
  const units = byColumns ? tiles : blocks;
  const u0 = share(units, tid, nt, 1), u1 = share(units, tid + 1, nt, 1);
  const ldcB = <usize>ldc << 2, ldaB = <usize>lda << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kn = min(KC, K - k0);
    const init = accumulate != 0 || k0 > 0;
    const rp = rows + (<usize>k0 << 2);
    if (!byColumns) {
      for (let mb = u0; mb < u1; mb++) {
        const ak = at(a, mb * MR * lda + k0), rowsValid = min(MR, M - mb * MR), cRow = at(c, mb * MR * ldc);
        for (let t = 0; t < tiles; t++) {
          const n = t * NR;
          tile(ak, ldaB, rp, kn, <usize>n << 2, at(cRow, n), ldcB, rowsValid, min(NR, N - n), init);
        }
      }
      continue;
    }
    for (let t = u0; t < u1; t++) {
      const n = t * NR, width = min(NR, N - n);
      for (let mb = 0; mb < blocks; mb++) {
        tile(at(a, mb * MR * lda + k0), ldaB, rp, kn, <usize>n << 2, at(c, mb * MR * ldc + n), ldcB, min(MR, M - mb * MR), width, init);
      }
    }
  }
}

/**
 * C[m, r·rowLen + j] = Σ_k A[m·lda + k]·B_k[pl·bPlane + q·bRow + j] for the R rows r = pl·planeRows + q
 * of rowLen columns: gemmRows whose columns are a volume's rows of outputs and whose B rows are a frame
 * with a wider pitch (a stride-1 convolution's zero-padded input), so that outputs go straight to their
 * place, without columns for the frame's pitch or a copy of the input per kernel tap. Tiles of 8 columns
 * stay within a row; parts take them by columns.
 */
export function gemmFrame(M: i32, R: i32, rowLen: i32, K: i32, a: usize, lda: i32, rows: usize, c: usize, ldc: i32,
                          planeRows: i32, bRow: i32, bPlane: i32, tid: i32, nt: i32): void {
  const perRow = (rowLen + NR - 1) / NR, tiles = R * perRow, blocks = (M + MR - 1) / MR;
  const u0 = share(tiles, tid, nt, 1), u1 = share(tiles, tid + 1, nt, 1);
  const ldcB = <usize>ldc << 2, ldaB = <usize>lda << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kn = min(KC, K - k0), init = k0 > 0, rp = rows + (<usize>k0 << 2);
    for (let t = u0; t < u1; t++) {
      const r = t / perRow, j = (t - r * perRow) * NR, width = min(NR, rowLen - j), pl = r / planeRows;
      const bOff = <usize>(pl * bPlane + (r - pl * planeRows) * bRow + j) << 2, cCol = r * rowLen + j;
      for (let mb = 0; mb < blocks; mb++) {
        tile(at(a, mb * MR * lda + k0), ldaB, rp, kn, bOff, at(c, mb * MR * ldc + cCol), ldcB, min(MR, M - mb * MR), width, init);
      }
    }
  }
}

/**
 * gemmRows for one or two rows of A: tiles of 16 columns (tile2), the last columns that do not fill one
 * by the 4-row tile, so that no tile reads further past a B row's end than gemmRows promises.
 */
function gemmTwoRows(M: i32, N: i32, K: i32, a: usize, lda: i32, rows: usize, c: usize, ldc: i32, accumulate: i32, tid: i32, nt: i32): void {
  const wide = N >> 4, units = wide + (N & 15 ? 1 : 0);
  const u0 = share(units, tid, nt, 1), u1 = share(units, tid + 1, nt, 1);
  const ldcB = <usize>ldc << 2, ldaB = <usize>lda << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kn = min(KC, K - k0), init = accumulate != 0 || k0 > 0, rp = rows + (<usize>k0 << 2), ak = at(a, k0);
    for (let t = u0; t < u1; t++) {
      const n = t << 4;
      if (t < wide) { tile2(ak, ldaB, rp, kn, <usize>n << 2, at(c, n), ldcB, M, init); continue; }
      for (let j = n; j < N; j += NR) tile(ak, ldaB, rp, kn, <usize>j << 2, at(c, j), ldcB, M, min(NR, N - j), init);
    }
  }
}

/**
 * C[m, j] += Σ_k Σ_{l<len_k} A[m·lda + aOff_k + l]·B_j[bOff_k + l] with B_j at the address rows[j], over
 * the chunks k of the u32 table `chunks` (aOff, bOff, len: floats, floats, positions a chunk): each
 * chunk's sums in an order that only depends on its length, added to C in chunk order, however the
 * work is cut. (Chunks let B skip what A has no positions for: the rows of a frame's pitch that are not
 * outputs.) Without `partials` (0), a part owns whole 4×2 tiles of C and adds each chunk's sums as it
 * goes. With it, a part takes whole chunks and stores their sums at partials [count, M, J], for
 * sumChunks to add to C in the same order: the long reductions of few outputs (a first layer's weight
 * gradient) then spread over the threads, each part reading only its stretch of A and B.
 */
export function gemmDot(M: i32, J: i32, a: usize, lda: i32, rows: usize, c: usize, ldc: i32, count: i32, chunks: usize,
                        partials: usize, tid: i32, nt: i32): void {
  const jBlocks = (J + 1) >> 1, tiles = ((M + 3) >> 2) * jBlocks;
  if (partials) {
    const k0 = share(count, tid, nt, 1), k1 = share(count, tid + 1, nt, 1);
    for (let k = k0; k < k1; k++) {
      const e = chunks + <usize>k * 12, ak = at(a, load<i32>(e)), bOff = <usize>load<u32>(e, 4) << 2, len = load<i32>(e, 8);
      const pk = at(partials, k * M * J);
      for (let t = 0; t < tiles; t++) {
        const mb = t / jBlocks;
        dotTile(M, J, ak, lda, rows, bOff, pk, J, mb * 4, (t - mb * jBlocks) * 2, len, false);
      }
    }
    return;
  }
  const t0 = share(tiles, tid, nt, 1), t1 = share(tiles, tid + 1, nt, 1);
  for (let k = 0; k < count; k++) {
    const e = chunks + <usize>k * 12, ak = at(a, load<i32>(e)), bOff = <usize>load<u32>(e, 4) << 2, len = load<i32>(e, 8);
    for (let t = t0; t < t1; t++) {
      const mb = t / jBlocks;
      dotTile(M, J, ak, lda, rows, bOff, c, ldc, mb * 4, (t - mb * jBlocks) * 2, len, true);
    }
  }
}

/** C[m, j] += partials[k, m, j] for k = 0, 1, … chunks − 1 in turn: gemmDot's chunk sums, in its order. */
export function sumChunks(M: i32, J: i32, chunks: i32, partials: usize, c: usize, ldc: i32, tid: i32, nt: i32): void {
  const n = M * J, i0 = share(n, tid, nt, 1), i1 = share(n, tid + 1, nt, 1);
  for (let i = i0; i < i1; i++) {
    const m = i / J, p = at(c, m * ldc + i - m * J);
    let s = load<f32>(p);
    for (let k = 0; k < chunks; k++) s += load<f32>(at(partials, k * n + i));
    store<f32>(p, s);
  }
}

/**
 * C[m..m+3, j..j+1] (+)= Σ_{l<len} A[m·lda + l]·B_j[l] with B_j at rows[j] + bOff bytes, summed in an
 * order that only depends on len; `add` false stores the sums in place of adding them.
 */
@inline
function dotTile(M: i32, J: i32, a: usize, lda: i32, rows: usize, bOff: usize, c: usize, ldc: i32, m: i32, j: i32, l1: i32, add: bool): void {
  // rows past the edge repeat the last valid one; their sums are dropped
  const pa0 = at(a, m * lda), pa1 = at(a, min(m + 1, M - 1) * lda);
  const pa2 = at(a, min(m + 2, M - 1) * lda), pa3 = at(a, min(m + 3, M - 1) * lda);
  const pb0 = <usize>load<u32>(rows + (<usize>j << 2)) + bOff, pb1 = <usize>load<u32>(rows + (<usize>min(j + 1, J - 1) << 2)) + bOff;
  let s00 = f32x4.splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  let l = 0;
  for (; l + 4 <= l1; l += 4) {
    const o = <usize>l << 2;
    const b0 = v128.load(pb0 + o), b1 = v128.load(pb1 + o);
    let av = v128.load(pa0 + o);
    s00 = fma(av, b0, s00); s01 = fma(av, b1, s01);
    av = v128.load(pa1 + o);
    s10 = fma(av, b0, s10); s11 = fma(av, b1, s11);
    av = v128.load(pa2 + o);
    s20 = fma(av, b0, s20); s21 = fma(av, b1, s21);
    av = v128.load(pa3 + o);
    s30 = fma(av, b0, s30); s31 = fma(av, b1, s31);
  }
  let r00 = hsum(s00), r01 = hsum(s01), r10 = hsum(s10), r11 = hsum(s11);
  let r20 = hsum(s20), r21 = hsum(s21), r30 = hsum(s30), r31 = hsum(s31);
  for (; l < l1; l++) {
    const o = <usize>l << 2;
    const b0 = load<f32>(pb0 + o), b1 = load<f32>(pb1 + o);
    const x0 = load<f32>(pa0 + o), x1 = load<f32>(pa1 + o), x2 = load<f32>(pa2 + o), x3 = load<f32>(pa3 + o);
    r00 += x0 * b0; r01 += x0 * b1; r10 += x1 * b0; r11 += x1 * b1;
    r20 += x2 * b0; r21 += x2 * b1; r30 += x3 * b0; r31 += x3 * b1;
  }
  const c0 = at(c, m * ldc + j);
  const ldcB = <usize>ldc << 2;
  const two = j + 1 < J;
  if (add) {
    r00 += load<f32>(c0); r01 += two ? load<f32>(c0, 4) : 0;
    if (m + 1 < M) { r10 += load<f32>(c0 + ldcB); r11 += two ? load<f32>(c0 + ldcB, 4) : 0; }
    if (m + 2 < M) { r20 += load<f32>(c0 + 2 * ldcB); r21 += two ? load<f32>(c0 + 2 * ldcB, 4) : 0; }
    if (m + 3 < M) { r30 += load<f32>(c0 + 3 * ldcB); r31 += two ? load<f32>(c0 + 3 * ldcB, 4) : 0; }
  }
  store<f32>(c0, r00);
  if (two) store<f32>(c0, r01, 4);
  if (m + 1 < M) { store<f32>(c0 + ldcB, r10); if (two) store<f32>(c0 + ldcB, r11, 4); }
  if (m + 2 < M) { store<f32>(c0 + 2 * ldcB, r20); if (two) store<f32>(c0 + 2 * ldcB, r21, 4); }
  if (m + 3 < M) { store<f32>(c0 + 3 * ldcB, r30); if (two) store<f32>(c0 + 3 * ldcB, r31, 4); }
}

@inline function offset(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2)) << 2;
}

/** Stores lanes [0, width) of the 8 values (v0, v1) of one row of C at row + cCol[n + j]. */
@inline
function scatterRow(row: usize, cCol: usize, n: i32, v0: v128, v1: v128, width: i32): void {
  const t = cCol + (<usize>n << 2);
  store<f32>(row + offset(t, 0), f32x4.extract_lane(v0, 0));
  if (width > 1) store<f32>(row + offset(t, 1), f32x4.extract_lane(v0, 1));
  if (width > 2) store<f32>(row + offset(t, 2), f32x4.extract_lane(v0, 2));
  if (width > 3) store<f32>(row + offset(t, 3), f32x4.extract_lane(v0, 3));
  if (width > 4) store<f32>(row + offset(t, 4), f32x4.extract_lane(v1, 0));
  if (width > 5) store<f32>(row + offset(t, 5), f32x4.extract_lane(v1, 1));
  if (width > 6) store<f32>(row + offset(t, 6), f32x4.extract_lane(v1, 2));
  if (width > 7) store<f32>(row + offset(t, 7), f32x4.extract_lane(v1, 3));
}

/** Stores columns [0, count) of the 4×4 block whose rows are r0…r3, each as 4 floats at base + cCol[n + j]. */
@inline
function storeColumns(base: usize, cCol: usize, n: i32, r0: v128, r1: v128, r2: v128, r3: v128, count: i32): void {
  const lo01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), lo23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const hi01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), hi23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  const t = cCol + (<usize>n << 2);
  v128.store(base + offset(t, 0), i32x4.shuffle(lo01, lo23, 0, 1, 4, 5));
  if (count > 1) v128.store(base + offset(t, 1), i32x4.shuffle(lo01, lo23, 2, 3, 6, 7));
  if (count > 2) v128.store(base + offset(t, 2), i32x4.shuffle(hi01, hi23, 0, 1, 4, 5));
  if (count > 3) v128.store(base + offset(t, 3), i32x4.shuffle(hi01, hi23, 2, 3, 6, 7));
}

/**
 * C[m, n] = Σ_k A[m, k]·B_k[n] with A and C addressed through u32 float-offset tables: A[m, k] at
 * a + aRow[m] + aCol[k], C[m, n] at c + cRow[m] + cCol[n]; B_k at the byte address rows[k], contiguous
 * in n (read up to 7 floats past a row's last column). A convolution then reads its input and writes its
 * output where they lie, in place of an im2col matrix and transposes. Units are 4×8 tiles over the whole
 * depth, cut by rows and by columns, so that narrow and short products both spread over the threads;
 * each is summed in k order, however the work is cut.
 */
export function gemmGather(M: i32, N: i32, K: i32, a: usize, aRow: usize, aCol: usize, rows: usize,
                           c: usize, cRow: usize, cCol: usize, tid: i32, nt: i32): void {
  const blocks = (M + MR - 1) / MR, perBlock = (N + NR - 1) / NR;
  const u0 = share(blocks * perBlock, tid, nt, 1), u1 = share(blocks * perBlock, tid + 1, nt, 1);
  for (let u = u0; u < u1; u++) {
    const mb = u / perBlock, tile = u - mb * perBlock, m = mb * MR, rowsValid = min(MR, M - m);
    const n = tile * NR, width = min(NR, N - n);
    const nOff = <usize>n << 2;
    // rows past the edge of A repeat its last row; their results are not stored
    const a0 = a + offset(aRow, m), a1 = rowsValid > 1 ? a + offset(aRow, m + 1) : a0;
    const a2 = rowsValid > 2 ? a + offset(aRow, m + 2) : a1, a3 = rowsValid > 3 ? a + offset(aRow, m + 3) : a2;
    tile4x8(a0, a1, a2, a3, 0, aCol, rows, 0, nOff, K, ARows.GATHERED, true, false);
    const c00 = acc00, c01 = acc01, c10 = acc10, c11 = acc11, c20 = acc20, c21 = acc21, c30 = acc30, c31 = acc31;
    const r0 = offset(cRow, m);
    if (rowsValid == 4 && offset(cRow, m + 3) == r0 + 12 && offset(cRow, m + 1) == r0 + 4 && offset(cRow, m + 2) == r0 + 8) {
      // four consecutive outputs per column (a forward pass's positions): columns stored as vectors
      storeColumns(c + r0, cCol, n, c00, c10, c20, c30, min(4, width));
      if (width > 4) storeColumns(c + r0, cCol, n + 4, c01, c11, c21, c31, width - 4);
      continue;
    }
    scatterRow(c + r0, cCol, n, c00, c01, width);
    if (rowsValid > 1) scatterRow(c + offset(cRow, m + 1), cCol, n, c10, c11, width);
    if (rowsValid > 2) scatterRow(c + offset(cRow, m + 2), cCol, n, c20, c21, width);
    if (rowsValid > 3) scatterRow(c + offset(cRow, m + 3), cCol, n, c30, c31, width);
  }
}

/**
 * A row-major [M, K] matrix packed as 4-row blocks, each [K, 4] (rows past M zero): the register
 * tiles of packedTile then read their 4 values of A a step from one address.
 */
export function packRows4(a: usize, M: i32, K: i32, dst: usize, tid: i32, nt: i32): void {
  const blocks = (M + MR - 1) / MR;
  const b0 = share(blocks, tid, nt, 1), b1 = share(blocks, tid + 1, nt, 1);
  for (let mb = b0; mb < b1; mb++) {
    const d = at(dst, mb * K * MR), m = mb * MR;
    let k = 0;
    if (m + MR <= M) {
      const s0 = at(a, m * K), s1 = s0 + (<usize>K << 2), s2 = s1 + (<usize>K << 2), s3 = s2 + (<usize>K << 2);
      for (; k + 4 <= K; k += 4) {
        const o = <usize>k << 2;
        storeTransposed(d + (o << 2), 16, v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o));
      }
    }
    for (let r = 0; r < MR; r++) {
      const s = at(a, (m + r) * K);
      for (let kk = k; kk < K; kk++) store<f32>(at(d, kk * MR + r), m + r < M ? load<f32>(at(s, kk)) : 0);
    }
  }
}

/**
 * Packs x's rows under output rows oh0…oh0 + nr − 1 of plane (b, od), rows (c, kd, r) being
 * x[b, c, 2·od + kd, 2·oh0 + r] (r < 2·nr, in memory order), into the panel p: strips of 8 positions,
 * each [(c, kd, kh, kw), 8] (the W pairs split into even and odd taps).
 */
function packPatches(x: usize, p: usize, C: i32, D: i32, plane: i32, W: i32, oW: i32, b: i32, od: i32, oh0: i32, nr: i32,
                     stripB: usize): void {
  // oW a multiple of 8 (4): every row starts a strip (half a strip)
  const eights = (oW & 7) == 0, vectors = (oW & 3) == 0, perPlane = nr << 1, count = C * perPlane * 2;
  // the deep layers' rows are short: step (g, r) rather than divide per row
  let g = 0, r = 0;
  for (let i = 0; i < count; i++, r++) {
    if (r == perPlane) { r = 0; g++; }
    const ci = g >> 1, kd = g & 1, j = r >> 1, kh = r & 1;
    // strip rows ke (kw = 0) and ke + 1 (kw = 1)
    const ke = <usize>((ci << 3) + (kd << 2) + (kh << 1)) << 5;
    const s = at(x, ((b * C + ci) * D + 2 * od + kd) * plane + (2 * oh0 + r) * W);
    let ow = 0;
    if (eights) {
      // whole strips: 8 positions a step, 4 of kw = 0 then 4 of kw = 1 per half strip row
      let q = p + <usize>(j * oW >> 3) * stripB + ke, src = s;
      for (; ow < oW; ow += 8) {
        const v0 = v128.load(src), v1 = v128.load(src, 16), v2 = v128.load(src, 32), v3 = v128.load(src, 48);
        v128.store(q, i32x4.shuffle(v0, v1, 0, 2, 4, 6)); v128.store(q, i32x4.shuffle(v2, v3, 0, 2, 4, 6), 16);
        v128.store(q, i32x4.shuffle(v0, v1, 1, 3, 5, 7), 32); v128.store(q, i32x4.shuffle(v2, v3, 1, 3, 5, 7), 48);
        q += stripB; src += 64;
      }
    }
    if (vectors) {
      for (; ow < oW; ow += 4) {
        // the last pair read ends at 2·ow + 7 < 2·oW ≤ W: inside the row
        const n = j * oW + ow, q = p + <usize>(n >> 3) * stripB + ke + (<usize>(n & 7) << 2);
        const v0 = v128.load(at(s, 2 * ow)), v1 = v128.load(at(s, 2 * ow), 16);
        v128.store(q, i32x4.shuffle(v0, v1, 0, 2, 4, 6));
        v128.store(q, i32x4.shuffle(v0, v1, 1, 3, 5, 7), 32);
      }
    }
    for (; ow < oW; ow++) {
      const n = j * oW + ow, q = p + <usize>(n >> 3) * stripB + ke + (<usize>(n & 7) << 2);
      store<f32>(q, load<f32>(at(s, 2 * ow)));
      store<f32>(q, load<f32>(at(s, 2 * ow + 1)), 32);
    }
  }
}

/**
 * y = conv(x, w) for kernel = stride = 2 (no padding, dilation 1), x [N, C, D, H, W], w [M, C·8] packed
 * by packRows4, y [N, M, oD, oH, oW]: a GEMM over the disjoint 2×2×2 patches. A part takes blocks of R
 * output rows of one plane (b, od, oh…oh + R − 1), whose positions are consecutive in y, packs each
 * block's patches into its slot of `slots`, a panel of C·8·ldp floats (ldp = R·oW rounded up to 8;
 * packPatches: a tile reads its B values a step from one address), then runs every 4 × 8 tile of
 * w·panel over it. (Packing the next block a few rows after each tile, to overlap its reads of x with
 * the multiply-adds, was no faster: down 16→32 on one thread 2.86 against 2.97 ms.) Every output is
 * summed in (c, tap) order, however the work is cut.
 */
export function patchConv(x: usize, w: usize, y: usize, N: i32, C: i32, M: i32, D: i32, H: i32, W: i32,
                          oD: i32, oH: i32, oW: i32, R: i32, slots: usize, tid: i32, nt: i32): void {
  const K = C << 3, ldp = (R * oW + 7) & ~7, hBlocks = (oH + R - 1) / R, units = N * oD * hBlocks;
  const outVol = oD * oH * oW, plane = H * W, mBlocks = (M + MR - 1) / MR;
  const u0 = share(units, tid, nt, 1), u1 = share(units, tid + 1, nt, 1);
  const stripB = <usize>K << 5, ldyB = <usize>outVol << 2, p = at(slots, tid * K * ldp);
  for (let u = u0; u < u1; u++) {
    const hb = u % hBlocks, od = (u / hBlocks) % oD, b = u / (hBlocks * oD);
    const oh0 = hb * R, nr = min(R, oH - oh0), positions = nr * oW, strips = (positions + 7) >> 3;
    packPatches(x, p, C, D, plane, W, oW, b, od, oh0, nr, stripB);
    // lanes of the last strip past the block: never stored, but kept finite
    for (let n = positions; n < strips << 3; n++) {
      const q = p + <usize>(n >> 3) * stripB + (<usize>(n & 7) << 2);
      for (let k = 0; k < K; k++) store<f32>(q + (<usize>k << 5), 0);
    }
    // w is read once per group of strips: with more outputs than positions (the deep layers), one group
    const group = M > positions ? strips : SG;
    const yr = at(y, b * M * outVol + (od * oH + oh0) * oW);
    for (let t0 = 0; t0 < strips; t0 += group) {
      const t1 = min(strips, t0 + group);
      for (let mb = 0; mb < mBlocks; mb++) {
        const m = mb * MR, a = at(w, mb * K * MR), yb = at(yr, m * outVol), rowsValid = min(MR, M - m);
        for (let t = t0; t < t1; t++) {
          const n = t << 3;
          packedTile(a, p + <usize>t * stripB, 32, K, at(yb, n), ldyB, rowsValid, min(NR, positions - n));
        }
      }
    }
  }
}

/**
 * The input gradient of patchConv: dx[b, c, 2·od + kd, 2·oh + kh, 2·ow + kw] = Σ_m wT[(c, kd, kh, kw), m]·dy[b, m, od, oh, ow],
 * with wT = [C·8, M] packed by packRows4: block (c, kd) holds the four (kh, kw) taps, [m, 4]. A part
 * takes output rows (b, od, oh): it copies the row's dy into its slot of `slots` as strips of 8
 * positions, each [m, 8] (M·ldp floats, ldp = oW rounded up to 8), then runs a 4 × 8 tile per (c, kd)
 * and strip, both operands read a step from one address, and stores it as two dx rows, the kw pairs
 * interleaved. Inputs no patch covers (a last odd plane, row or column) are left as they are: the host
 * zeroes them. Every element is summed in m order, however the work is cut.
 */
export function patchConvInput(dy: usize, wT: usize, dx: usize, N: i32, C: i32, M: i32, D: i32, H: i32, W: i32,
                               oD: i32, oH: i32, oW: i32, slots: usize, tid: i32, nt: i32): void {
  const rows = N * oD * oH, outVol = oD * oH * oW, plane = H * W, ldp = (oW + 7) & ~7, strips = ldp >> 3;
  const r0 = share(rows, tid, nt, 1), r1 = share(rows, tid + 1, nt, 1);
  const rowB = <usize>W << 2, stripB = <usize>M << 5, blockB = <usize>M << 4, dyr = at(slots, tid * M * ldp);
  for (let r = r0; r < r1; r++) {
    const oh = r % oH, od = (r / oH) % oD, b = r / (oH * oD);
    const src = at(dy, b * M * outVol + (od * oH + oh) * oW);
    for (let m = 0; m < M; m++) {
      const s = at(src, m * outVol), d = dyr + (<usize>m << 5);
      let ow = 0, q = d;
      for (; ow + 8 <= oW; ow += 8, q += stripB) { v128.store(q, v128.load(at(s, ow))); v128.store(q, v128.load(at(s, ow), 16), 16); }
      for (; ow + 4 <= oW; ow += 4) v128.store(d + <usize>(ow >> 3) * stripB + (<usize>(ow & 7) << 2), v128.load(at(s, ow)));
      for (; ow < oW; ow++) store<f32>(d + <usize>(ow >> 3) * stripB + (<usize>(ow & 7) << 2), load<f32>(at(s, ow)));
      // lanes of the last strip past the row: never stored, but kept finite
      for (; ow < ldp; ow++) store<f32>(d + <usize>(ow >> 3) * stripB + (<usize>(ow & 7) << 2), 0);
    }
    for (let ci = 0; ci < C; ci++) {
      for (let kd = 0; kd < 2; kd++) {
        const ak = wT + <usize>((ci << 1) + kd) * blockB;
        const d0 = at(dx, ((b * C + ci) * D + 2 * od + kd) * plane + 2 * oh * W);
        for (let t = 0; t < strips; t++) {
          const n = t << 3;
          packedTile(ak, dyr + <usize>t * stripB, 32, M, at(d0, 2 * n), rowB, 4, min(NR, oW - n), true);
        }
      }
    }
  }
}

/**
 * Packs the patches of channel xc (one sample's [D, H, W]) for output rows r0…r1 − 1 of the sample
 * (r = od·oH + oh) as a panel P[pos, t] at p: 8 taps a position, built from the W pairs with shuffles.
 */
@inline
function packPatchTaps(xc: usize, p: usize, r0: i32, r1: i32, oH: i32, oW: i32, W: i32, plane: i32): void {
  const rowB = <usize>W << 2, planeB = <usize>plane << 2;
  let q = p;
  for (let r = r0; r < r1; r++) {
    const od = r / oH, oh = r - od * oH;
    const s00 = at(xc, 2 * od * plane + 2 * oh * W), s01 = s00 + rowB, s10 = s00 + planeB, s11 = s10 + rowB;
    let ow = 0;
    for (; ow + 2 <= oW; ow += 2) {
      // pairs (kw = 0, 1) of two positions per row; the rows' last read ends at 2·ow + 3 < 2·oW ≤ W
      const o = <usize>ow << 3;
      const a = v128.load(s00 + o), e = v128.load(s01 + o), f = v128.load(s10 + o), g = v128.load(s11 + o);
      v128.store(q, i32x4.shuffle(a, e, 0, 1, 4, 5)); v128.store(q, i32x4.shuffle(f, g, 0, 1, 4, 5), 16);
      v128.store(q, i32x4.shuffle(a, e, 2, 3, 6, 7), 32); v128.store(q, i32x4.shuffle(f, g, 2, 3, 6, 7), 48);
      q += 64;
    }
    if (ow < oW) {
      const o = <usize>ow << 3;
      store<i64>(q, load<i64>(s00 + o)); store<i64>(q, load<i64>(s01 + o), 8);
      store<i64>(q, load<i64>(s10 + o), 16); store<i64>(q, load<i64>(s11 + o), 24);
      q += 32;
    }
  }
}

/**
 * The weight gradient of patchConv by chunks of positions: part takes whole chunks (b, rows r0…r0 +
 * chunkRows − 1 of sample b), packs the chunk's dy as blocks of 4 outputs, each [pos, 4] (packRows4's
 * layout, rows past M zero), then per input channel the chunk's patches (packPatchTaps) and runs 4 × 8
 * tiles over them, storing the chunk's sums at partials [chunks, M, C·8] for sumChunks to add up in
 * chunk order. The same sums in the same order as patchConvWeight, whose parts take channels: this
 * one suits many positions and few channels (the first down-conv), as each part reads dy once.
 * A slot of `slots` holds M rounded up to 4 rows of dy and 8 taps per position: (M4 + 8)·chunkRows·oW floats.
 */
export function patchConvWeightChunks(x: usize, dy: usize, partials: usize, N: i32, C: i32, M: i32, D: i32, H: i32, W: i32,
                                      oD: i32, oH: i32, oW: i32, chunkRows: i32, slots: usize, tid: i32, nt: i32): void {
  const K = C << 3, outVol = oD * oH * oW, plane = H * W, rowsPerSample = oD * oH, mBlocks = (M + MR - 1) / MR;
  const chunksPerSample = (rowsPerSample + chunkRows - 1) / chunkRows, chunks = N * chunksPerSample;
  const u0 = share(chunks, tid, nt, 1), u1 = share(chunks, tid + 1, nt, 1);
  const most = chunkRows * oW, a = at(slots, tid * (mBlocks * MR + 8) * most), p = at(a, mBlocks * MR * most);
  const ldcB = <usize>K << 2;
  for (let u = u0; u < u1; u++) {
    const b = u / chunksPerSample, r0 = (u - b * chunksPerSample) * chunkRows, r1 = min(rowsPerSample, r0 + chunkRows);
    const positions = (r1 - r0) * oW;
    // dy's rows of the chunk, 4 outputs interleaved a position (a 4 × 4 transpose per 4 positions)
    for (let mb = 0; mb < mBlocks; mb++) {
      const d = at(a, mb * MR * positions), m = mb * MR;
      const s0 = at(dy, (b * M + m) * outVol + r0 * oW), s1 = m + 1 < M ? s0 + (<usize>outVol << 2) : 0;
      const s2 = m + 2 < M ? s0 + (<usize>outVol << 3) : 0, s3 = m + 3 < M ? s0 + <usize>outVol * 12 : 0;
      let l = 0;
      if (m + 3 < M) {
        for (; l + 4 <= positions; l += 4) {
          const o = <usize>l << 2;
          storeTransposed(d + (o << 2), 16, v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o));
        }
      }
      for (; l < positions; l++) {
        const o = <usize>l << 2, q = d + (o << 2);
        store<f32>(q, load<f32>(s0 + o));
        store<f32>(q, s1 ? load<f32>(s1 + o) : 0, 4);
        store<f32>(q, s2 ? load<f32>(s2 + o) : 0, 8);
        store<f32>(q, s3 ? load<f32>(s3 + o) : 0, 12);
      }
    }
    const out = at(partials, u * M * K);
    for (let ci = 0; ci < C; ci++) {
      packPatchTaps(at(x, (b * C + ci) * D * plane), p, r0, r1, oH, oW, W, plane);
      for (let mb = 0; mb < mBlocks; mb++) {
        const m = mb * MR;
        packedTile(at(a, m * positions), p, 32, positions, at(out, m * K + (ci << 3)), ldcB, min(MR, M - m), NR);
      }
    }
  }
}

/**
 * The weight gradient of patchConv: dw[m, (c, t)] += Σ over positions of dy[b, m, pos]·x[b, c, patch pos, tap t],
 * dw zeroed by the host. A part takes input channels c; per sample and chunk of `chunkRows` output rows it
 * packs the chunk's patches of c as a panel P[pos, t] (8 taps a position, built from the W pairs with
 * shuffles) in its own slot of `slots` (chunkRows·oW·8 floats per part), then runs 4 × 8 tiles
 * (4 outputs m, the 8 taps) along the chunk with dy's rows read in place. Every element is summed in
 * position order with chunk boundaries that do not depend on the cut.
 */
export function patchConvWeight(x: usize, dy: usize, dw: usize, N: i32, C: i32, M: i32, D: i32, H: i32, W: i32,
                                oD: i32, oH: i32, oW: i32, chunkRows: i32, slots: usize, tid: i32, nt: i32): void {
  const K = C << 3, outVol = oD * oH * oW, plane = H * W, rowsPerSample = oD * oH;
  const c0 = share(C, tid, nt, 1), c1 = share(C, tid + 1, nt, 1);
  const p = at(slots, tid * chunkRows * oW * 8), ldaB = <usize>outVol << 2, ldcB = <usize>K << 2;
  for (let ci = c0; ci < c1; ci++) {
    for (let b = 0; b < N; b++) {
      const xc = at(x, (b * C + ci) * D * plane);
      for (let r0 = 0; r0 < rowsPerSample; r0 += chunkRows) {
        const r1 = min(rowsPerSample, r0 + chunkRows);
        packPatchTaps(xc, p, r0, r1, oH, oW, W, plane);
        const positions = (r1 - r0) * oW;
        for (let m = 0; m < M; m += MR) {
          const rowsValid = min(MR, M - m);
          const a0 = at(dy, (b * M + m) * outVol + r0 * oW), a1 = rowsValid > 1 ? a0 + ldaB : a0;
          const a2 = rowsValid > 2 ? a1 + ldaB : a1, a3 = rowsValid > 3 ? a2 + ldaB : a2;
          tile4x8(a0, a1, a2, a3, 4, 0, p, 32, 0, positions, ARows.STRIDED, false, false);
          const c00 = acc00, c01 = acc01, c10 = acc10, c11 = acc11, c20 = acc20, c21 = acc21, c30 = acc30, c31 = acc31;
          const c = at(dw, m * K + (ci << 3));
          v128.store(c, f32x4.add(v128.load(c), c00)); v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
          if (rowsValid > 1) { v128.store(c + ldcB, f32x4.add(v128.load(c + ldcB), c10)); v128.store(c + ldcB, f32x4.add(v128.load(c + ldcB, 16), c11), 16); }
          if (rowsValid > 2) { v128.store(c + 2 * ldcB, f32x4.add(v128.load(c + 2 * ldcB), c20)); v128.store(c + 2 * ldcB, f32x4.add(v128.load(c + 2 * ldcB, 16), c21), 16); }
          if (rowsValid > 3) { v128.store(c + 3 * ldcB, f32x4.add(v128.load(c + 3 * ldcB), c30)); v128.store(c + 3 * ldcB, f32x4.add(v128.load(c + 3 * ldcB, 16), c31), 16); }
        }
      }
    }
  }
}
