// Convolutions of tiny volumes (engine/backends/wasm/skip-padding.ts) as products vectorised over the
// output channels. There the batch's output positions fall into groups that reach the same kernel taps,
// often one position each: a group of a batch of two is two columns, too narrow for a tile that is a
// vector wide in columns. A tile here is 16 channels × 2 columns: each step of the depth loads 16 packed
// weights and broadcasts one input value per column, read in place from the zero-padded input.
import { at, fma, share, storeTransposed } from './common';

const CB = 16;  // output channels per block (four vectors)
const CC = 8;   // input channels per chunk of the depth

/**
 * Packs A[m, (c, t)] = a[m·rowStride + c·cStride + tStart + t·tStep] (floats, tStep ±1) for the rows
 * m0…m0 + 15 as [(c, t)][16], rows past M zero: the forward's weights [M, C, T] read as they are, or an
 * input gradient's, w [C, M, T] read transposed with the taps flipped. Four taps of four rows at a time
 * are loaded as vectors and stored transposed.
 */
@inline
function packBlock(a: usize, m0: i32, M: i32, C: i32, T: i32, rowStride: i32, cStride: i32, tStart: i32, tStep: i32, dst: usize): void {
  const rowB = <usize>rowStride << 2, kB = <usize>CB << 2;
  for (let q = 0; q < CB; q += 4) {
    const m = m0 + q, d = dst + (<usize>q << 2);
    if (m + 4 > M) {
      for (let r = 0; r < 4; r++) packRowScalar(a, m + r, M, C, T, rowStride, cStride, tStart, tStep, d + (<usize>r << 2));
      continue;
    }
    for (let c = 0; c < C; c++) {
      const s0 = at(a, m * rowStride + c * cStride + tStart), s1 = s0 + rowB, s2 = s1 + rowB, s3 = s2 + rowB;
      let dk = d + <usize>(c * T) * kB, t = 0;
      for (; t + 4 <= T; t += 4, dk += kB << 2) {
        if (tStep > 0) {
          const o = <usize>t << 2;
          storeTransposed(dk, kB, v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o));
        } else {
          const o = <usize>(t + 3) << 2;
          storeTransposed(dk, kB, reversed(v128.load(s0 - o)), reversed(v128.load(s1 - o)), reversed(v128.load(s2 - o)),
                          reversed(v128.load(s3 - o)));
        }
      }
      for (; t < T; t++, dk += kB) {
        const o = <isize>(t * tStep) << 2;
        store<f32>(dk, load<f32>(s0 + o)); store<f32>(dk, load<f32>(s1 + o), 4);
        store<f32>(dk, load<f32>(s2 + o), 8); store<f32>(dk, load<f32>(s3 + o), 12);
      }
    }
  }
}

/** One row of packBlock, zero where m ≥ M, into the lane at d. */
@inline
function packRowScalar(a: usize, m: i32, M: i32, C: i32, T: i32, rowStride: i32, cStride: i32, tStart: i32, tStep: i32, d: usize): void {
  for (let c = 0; c < C; c++) {
    const s = at(a, m * rowStride + c * cStride + tStart);
    for (let t = 0; t < T; t++, d += CB << 2) store<f32>(d, m < M ? load<f32>(s + (<isize>(t * tStep) << 2)) : 0);
  }
}

@inline
function reversed(v: v128): v128 {
  return i32x4.shuffle(v, v, 3, 2, 1, 0);
}

/** Stores the 4 lanes of v (rows m…m + 3, those below M) of one column. */
@inline
function storeColumn(c: usize, cRow: usize, m: i32, M: i32, colOff: u32, v: v128): void {
  if (m < M) store<f32>(c + ((<usize>(load<u32>(cRow + (<usize>m << 2)) + colOff)) << 2), f32x4.extract_lane(v, 0));
  if (m + 1 < M) store<f32>(c + ((<usize>(load<u32>(cRow + (<usize>(m + 1) << 2)) + colOff)) << 2), f32x4.extract_lane(v, 1));
  if (m + 2 < M) store<f32>(c + ((<usize>(load<u32>(cRow + (<usize>(m + 2) << 2)) + colOff)) << 2), f32x4.extract_lane(v, 2));
  if (m + 3 < M) store<f32>(c + ((<usize>(load<u32>(cRow + (<usize>(m + 3) << 2)) + colOff)) << 2), f32x4.extract_lane(v, 3));
}

/**
 * out[cRow[m] + cCol[n]] = Σ_j A[m, kOff[j]] · src[srcOff[j] + start[n]] for the groups of columns, group g
 * being (first column, columns, first j, depth) in `groups`, its j running over (c, tap) with c outer: A
 * packed per 16 rows by packBlock (kOff in bytes from a packed row of 16, that is 64·(c·T + t)), src the
 * zero-padded input and srcOff, start byte offsets into it. Parts take blocks of 16 rows. A block is
 * summed over chunks of CC input channels, each packed into the part's slot of `slots` (CC·T·16 floats
 * for A, then 16 per column for the running sums) so that it stays in L1 while every group runs over it.
 * Every output is summed in j order within a chunk and chunk by chunk, however the work is cut.
 */
export function gemmGatherChannels(M: i32, a: usize, C: i32, T: i32, rowStride: i32, cStride: i32, tStart: i32, tStep: i32,
                                   slots: usize, src: usize, start: usize, kOff: usize, srcOff: usize, groups: usize, nGroups: i32,
                                   L: i32, out: usize, cRow: usize, cCol: usize, tid: i32, nt: i32): void {
  const blocks = (M + CB - 1) / CB, packed = at(slots, tid * (CC * T + L) * CB), sums = at(packed, CC * T * CB);
  const b0 = share(blocks, tid, nt, 1), b1 = share(blocks, tid + 1, nt, 1);
  for (let mb = b0; mb < b1; mb++) {
    const m0 = mb * CB;
    for (let c0 = 0; c0 < C; c0 += CC) {
      const cn = min(CC, C - c0), first = c0 == 0, last = c0 + cn == C;
      packBlock(a + (<usize>(c0 * cStride) << 2), m0, M, cn, T, rowStride, cStride, tStart, tStep, packed);
      // kOff counts from the first channel: this chunk's A starts c0·T packed rows earlier
      const base = packed - (<usize>(c0 * T) << 6);
      for (let gi = 0; gi < nGroups; gi++) {
        const gp = groups + (<usize>gi << 4);
        const n0 = load<u32>(gp), count = load<u32>(gp, 4), perC = load<u32>(gp, 12) / <u32>C;
        const j0 = load<u32>(gp, 8) + <u32>c0 * perC, depth = <u32>cn * perC;
        for (let n = n0; n < n0 + count; n += 2) {
          const two = n + 1 < n0 + count, nB = n + (two ? 1 : 0);
          const x0 = src + <usize>load<u32>(start + (<usize>n << 2)), x1 = src + <usize>load<u32>(start + (<usize>nB << 2));
          const s0 = sums + (<usize>n << 6), s1 = sums + (<usize>nB << 6);
          let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
          if (!first) {
            c00 = v128.load(s0); c01 = v128.load(s0, 16); c02 = v128.load(s0, 32); c03 = v128.load(s0, 48);
            c10 = v128.load(s1); c11 = v128.load(s1, 16); c12 = v128.load(s1, 32); c13 = v128.load(s1, 48);
          }
          let kp = kOff + (<usize>j0 << 2), sp = srcOff + (<usize>j0 << 2);
          for (let j: u32 = 0; j < depth; j++) {
            const ap = base + <usize>load<u32>(kp), so = <usize>load<u32>(sp);
            const a0 = v128.load(ap), a1 = v128.load(ap, 16), a2 = v128.load(ap, 32), a3 = v128.load(ap, 48);
            let xv = v128.load32_splat(x0 + so);
            c00 = fma(xv, a0, c00); c01 = fma(xv, a1, c01); c02 = fma(xv, a2, c02); c03 = fma(xv, a3, c03);
            xv = v128.load32_splat(x1 + so);
            c10 = fma(xv, a0, c10); c11 = fma(xv, a1, c11); c12 = fma(xv, a2, c12); c13 = fma(xv, a3, c13);
            kp += 4; sp += 4;
          }
          if (!last) {
            v128.store(s0, c00); v128.store(s0, c01, 16); v128.store(s0, c02, 32); v128.store(s0, c03, 48);
            v128.store(s1, c10); v128.store(s1, c11, 16); v128.store(s1, c12, 32); v128.store(s1, c13, 48);
            continue;
          }
          const col0 = load<u32>(cCol + (<usize>n << 2));
          storeColumn(out, cRow, m0, M, col0, c00); storeColumn(out, cRow, m0 + 4, M, col0, c01);
          storeColumn(out, cRow, m0 + 8, M, col0, c02); storeColumn(out, cRow, m0 + 12, M, col0, c03);
          if (two) {
            const col1 = load<u32>(cCol + (<usize>nB << 2));
            storeColumn(out, cRow, m0, M, col1, c10); storeColumn(out, cRow, m0 + 4, M, col1, c11);
            storeColumn(out, cRow, m0 + 8, M, col1, c12); storeColumn(out, cRow, m0 + 12, M, col1, c13);
          }
        }
      }
    }
  }
}
