// Winograd F(2×2×2, 3×3×3) transforms for stride-1 3×3×3 convolutions (engine/backends/wasm/winograd.ts
// runs them around 64 GEMMs, one per transform point f = (fz·4 + fy)·4 + fx):
//   input  U[f][c][tile] = (Bᵀ d B) over each axis of the 4×4×4 patch d at 2·tile (patches overlap by 2)
//   weight V[f][co][ci]  = (G g Gᵀ) over each axis of the 3×3×3 kernel g
//   output y[2·tile + o] = (Aᵀ m A) over each axis of the 64 GEMM results m of a tile
// Vector lanes hold four neighbouring tiles along W. Each part keeps its 64 intermediate vectors in its
// own 1 KiB of the scratch block the host passes (`scratch + part·1024`; winoWeight 2 KiB, winoGradDirect
// 33 KiB). The 64 planes of V, U and the GEMM results lie fStride floats apart, which the host keeps off
// multiples of 4 KiB: a tile's 64 values would otherwise fall in one cache set.
import { at, fma, share, storeLanes, storeTransposed } from './common';
import { acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, ARows, packedTile, tile4x8 } from './tile';

@inline function s(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 4)); }
@inline function put(p: usize, i: i32, v: v128): void { v128.store(p + (<usize>i << 4), v); }

/**
 * The input transform of four neighbouring tiles along W (lanes) of one channel: their 4×4×4 patches start
 * at p0 + 2·lane floats in a frame of rows Wf floats and planes Hf rows. Value f of lane i goes to
 * dst + f·fStep + 4·i, all four lanes (callers leave room for lanes past the last tile).
 */
@inline function inputQuad(p0: usize, Hf: i32, Wf: i32, sp: usize, dst: usize, fStep: usize): void {
  // per patch row y: along x (lane i reads columns 2(q + i) .. 2(q + i) + 3), then along z, to sp[z][y][x]
  for (let y = 0; y < 4; y++) {
    const p = at(p0, y * Wf), plane = <usize>Hf * Wf << 2;
    let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
    let e = i32x4.shuffle(v0, v1, 0, 2, 4, 6), o = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
    let d2 = i32x4.shuffle(e, i32x4.shuffle(v1, v2, 0, 2, 4, 6), 1, 2, 3, 6);
    let d3 = i32x4.shuffle(o, i32x4.shuffle(v1, v2, 1, 3, 5, 7), 1, 2, 3, 6);
    const a0 = f32x4.sub(e, d2), a1 = f32x4.add(o, d2), a2 = f32x4.sub(d2, o), a3 = f32x4.sub(o, d3);
    v0 = v128.load(p + plane); v1 = v128.load(p + plane, 16); v2 = v128.load(p + plane, 32);
    e = i32x4.shuffle(v0, v1, 0, 2, 4, 6); o = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
    d2 = i32x4.shuffle(e, i32x4.shuffle(v1, v2, 0, 2, 4, 6), 1, 2, 3, 6);
    d3 = i32x4.shuffle(o, i32x4.shuffle(v1, v2, 1, 3, 5, 7), 1, 2, 3, 6);
    const b0 = f32x4.sub(e, d2), b1 = f32x4.add(o, d2), b2 = f32x4.sub(d2, o), b3 = f32x4.sub(o, d3);
    v0 = v128.load(p + 2 * plane); v1 = v128.load(p + 2 * plane, 16); v2 = v128.load(p + 2 * plane, 32);
    e = i32x4.shuffle(v0, v1, 0, 2, 4, 6); o = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
    d2 = i32x4.shuffle(e, i32x4.shuffle(v1, v2, 0, 2, 4, 6), 1, 2, 3, 6);
    d3 = i32x4.shuffle(o, i32x4.shuffle(v1, v2, 1, 3, 5, 7), 1, 2, 3, 6);
    const c0 = f32x4.sub(e, d2), c1 = f32x4.add(o, d2), c2 = f32x4.sub(d2, o), c3 = f32x4.sub(o, d3);
    const r = y * 4;
    put(sp, r, f32x4.sub(a0, c0)); put(sp, r + 1, f32x4.sub(a1, c1)); put(sp, r + 2, f32x4.sub(a2, c2)); put(sp, r + 3, f32x4.sub(a3, c3));
    put(sp, 16 + r, f32x4.add(b0, c0)); put(sp, 16 + r + 1, f32x4.add(b1, c1));
    put(sp, 16 + r + 2, f32x4.add(b2, c2)); put(sp, 16 + r + 3, f32x4.add(b3, c3));
    put(sp, 32 + r, f32x4.sub(c0, b0)); put(sp, 32 + r + 1, f32x4.sub(c1, b1));
    put(sp, 32 + r + 2, f32x4.sub(c2, b2)); put(sp, 32 + r + 3, f32x4.sub(c3, b3));
    v0 = v128.load(p + 3 * plane); v1 = v128.load(p + 3 * plane, 16); v2 = v128.load(p + 3 * plane, 32);
    e = i32x4.shuffle(v0, v1, 0, 2, 4, 6); o = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
    d2 = i32x4.shuffle(e, i32x4.shuffle(v1, v2, 0, 2, 4, 6), 1, 2, 3, 6);
    d3 = i32x4.shuffle(o, i32x4.shuffle(v1, v2, 1, 3, 5, 7), 1, 2, 3, 6);
    put(sp, 48 + r, f32x4.sub(b0, f32x4.sub(e, d2))); put(sp, 48 + r + 1, f32x4.sub(b1, f32x4.add(o, d2)));
    put(sp, 48 + r + 2, f32x4.sub(b2, f32x4.sub(d2, o))); put(sp, 48 + r + 3, f32x4.sub(b3, f32x4.sub(o, d3)));
  }
  // along y, straight to dst
  for (let zx = 0; zx < 16; zx++) {
    const i = (zx >> 2) * 16 + (zx & 3);
    const a0 = s(sp, i), a1 = s(sp, i + 4), a2 = s(sp, i + 8), a3 = s(sp, i + 12), d = dst + <usize>i * fStep;
    v128.store(d, f32x4.sub(a0, a2));
    v128.store(d + 4 * fStep, f32x4.add(a1, a2));
    v128.store(d + 8 * fStep, f32x4.sub(a2, a1));
    v128.store(d + 12 * fStep, f32x4.sub(a1, a3));
  }
}

/**
 * U[f·fStride + c·ld + tile] for the nr·tW tiles of tile rows row0 .. row0 + nr − 1 (row = tz·tH + ty)
 * whose patches start in src, a zero-padded frame of C channels (channel stride srcCS, rows Wf floats,
 * planes Hf rows, at least 2·tW + 2 floats per row and 8 floats of slack past the last channel). Quads
 * are stored whole: a row's last one writes up to 3 values past its tiles, over the next row's first
 * tiles (written after it: parts take whole channels) or, past the last row, over 3 floats that the
 * caller leaves free or fills later.
 */
export function winoInput(src: usize, srcCS: i32, Hf: i32, Wf: i32, C: i32, row0: i32, nr: i32, tH: i32, tW: i32,
                          u: usize, ld: i32, fStride: i32, scratch: usize, tid: i32, nt: i32): void {
  const c0 = share(C, tid, nt, 1), c1 = share(C, tid + 1, nt, 1);
  const sp = scratch + (<usize>tid << 10), fStep = <usize>fStride << 2;
  for (let c = c0; c < c1; c++) {
    for (let rr = 0; rr < nr; rr++) {
      const tz = (row0 + rr) / tH, ty = row0 + rr - tz * tH;
      const base = at(src, c * srcCS + (2 * tz * Hf + 2 * ty) * Wf), uRow = at(u, c * ld + rr * tW);
      for (let q = 0; q < tW; q += 4) inputQuad(at(base, 2 * q), Hf, Wf, sp, at(uRow, q), fStep);
    }
  }
}

/**
 * The 27 taps of the four kernels at g0…g3 as 27 vectors at t (tap i: the four kernels' values), loaded
 * a vector of taps at a time and transposed; the last three from the vector of taps 23–26, so that no
 * read passes a kernel's end.
 */
@inline function kernelTaps(g0: usize, g1: usize, g2: usize, g3: usize, t: usize): void {
  for (let o: usize = 0; o < 96; o += 16) storeTransposed(t + (o << 2), 16, v128.load(g0 + o), v128.load(g1 + o), v128.load(g2 + o), v128.load(g3 + o));
  storeTransposed(t + 384, 16, i32x4.shuffle(v128.load(g0 + 92), v128.load(g0 + 92), 1, 2, 3, 3),
                  i32x4.shuffle(v128.load(g1 + 92), v128.load(g1 + 92), 1, 2, 3, 3),
                  i32x4.shuffle(v128.load(g2 + 92), v128.load(g2 + 92), 1, 2, 3, 3),
                  i32x4.shuffle(v128.load(g3 + 92), v128.load(g3 + 92), 1, 2, 3, 3));
}

/** 0.5·(g0 + g1 + g2) and 0.5·(g0 − g1 + g2): the middle rows of G. */
@inline function gPlus(g0: v128, g1: v128, g2: v128): v128 { return f32x4.mul(f32x4.splat(0.5), f32x4.add(f32x4.add(g0, g1), g2)); }
@inline function gMinus(g0: v128, g1: v128, g2: v128): v128 { return f32x4.mul(f32x4.splat(0.5), f32x4.add(f32x4.sub(g0, g1), g2)); }

/**
 * V[f·fStride + ((m >> 2)·K + k)·4 + (m & 3)] from the kernels at w + (m·mStride + k·kStride) floats (27
 * taps each, in reverse order with flip: the input gradient's kernels are the forward's, flipped, with
 * the channels swapped): four output channels interleaved, so that the product's register tile finds
 * its four rows of A in one 16-byte step. Lanes take those four channels (past M, copies of the last,
 * whose products are never stored). Threads take (four channels, k) pairs; each part keeps 2 KiB of
 * `scratch`: the intermediate values, then the four kernels' taps.
 */
export function winoWeight(w: usize, M: i32, K: i32, mStride: i32, kStride: i32, flip: bool, v: usize, fStride: i32,
                           scratch: usize, tid: i32, nt: i32): void {
  const n = ((M + 3) >> 2) * K;
  const i0 = share(n, tid, nt, 1), i1 = share(n, tid + 1, nt, 1);
  const b = scratch + (<usize>tid << 11); // [3 z][3 y][4 x] after x at 16, [3 z][4 y][4 x] after y at 0:
  // slice z of the second overwrites only the first's slices up to z, already read
  const taps = b + 1024, fStep = <usize>fStride << 2;
  for (let i = i0; i < i1; i++) {
    const mb = i / K, k = i - mb * K, m0 = mb * 4;
    // lanes 4 channels, mStride floats apart, clamped to the last channel
    const g0 = at(w, m0 * mStride + k * kStride), mB = <usize>mStride << 2;
    const g1 = m0 + 1 < M ? g0 + mB : g0, g2 = m0 + 2 < M ? g1 + mB : g1, g3 = m0 + 3 < M ? g2 + mB : g2;
    kernelTaps(g0, g1, g2, g3, taps);
    // along x per kernel row, then y, then z
    for (let zy = 0; zy < 9; zy++) {
      const o0 = flip ? 26 - zy * 3 : zy * 3, step = flip ? -1 : 1;
      const r0 = s(taps, o0), r1 = s(taps, o0 + step), r2 = s(taps, o0 + 2 * step);
      put(b, 16 + zy * 4, r0);
      put(b, 16 + zy * 4 + 1, gPlus(r0, r1, r2));
      put(b, 16 + zy * 4 + 2, gMinus(r0, r1, r2));
      put(b, 16 + zy * 4 + 3, r2);
    }
    for (let zx = 0; zx < 12; zx++) {
      const z = zx >> 2, x = zx & 3;
      const y0 = s(b, 16 + z * 12 + x), y1 = s(b, 20 + z * 12 + x), y2 = s(b, 24 + z * 12 + x);
      put(b, z * 16 + x, y0);
      put(b, z * 16 + 4 + x, gPlus(y0, y1, y2));
      put(b, z * 16 + 8 + x, gMinus(y0, y1, y2));
      put(b, z * 16 + 12 + x, y2);
    }
    const dst = at(v, (mb * K + k) * 4);
    for (let yx = 0; yx < 16; yx++) {
      const z0 = s(b, yx), z1 = s(b, 16 + yx), z2 = s(b, 32 + yx);
      v128.store(dst + <usize>yx * fStep, z0);
      v128.store(dst + <usize>(yx + 16) * fStep, gPlus(z0, z1, z2));
      v128.store(dst + <usize>(yx + 32) * fStep, gMinus(z0, z1, z2));
      v128.store(dst + <usize>(yx + 48) * fStep, z2);
    }
  }
}

/**
 * The output transform of four neighbouring tiles along W (lanes): value f of lane i at src + f·fStep + 4·i,
 * tile (tz, ty, q + lane) of the output channel at out (rows oW floats, planes oH rows, oD planes), whose
 * outputs past the edges are dropped.
 */
@inline function outputQuad(src: usize, fStep: usize, sp: usize, out: usize, tz: i32, ty: i32, q: i32,
                            oD: i32, oH: i32, oW: i32): void {
  // per x: along z, then y, to sp[2 z][2 y][4 x]
  for (let x = 0; x < 4; x++) {
    const p = src + <usize>x * fStep;
    let a0 = v128.load(p), a1 = v128.load(p + 16 * fStep), a2 = v128.load(p + 32 * fStep), a3 = v128.load(p + 48 * fStep);
    const s0 = f32x4.add(f32x4.add(a0, a1), a2), t0 = f32x4.sub(f32x4.sub(a1, a2), a3);
    a0 = v128.load(p + 4 * fStep); a1 = v128.load(p + 20 * fStep); a2 = v128.load(p + 36 * fStep); a3 = v128.load(p + 52 * fStep);
    const s1 = f32x4.add(f32x4.add(a0, a1), a2), t1 = f32x4.sub(f32x4.sub(a1, a2), a3);
    a0 = v128.load(p + 8 * fStep); a1 = v128.load(p + 24 * fStep); a2 = v128.load(p + 40 * fStep); a3 = v128.load(p + 56 * fStep);
    const s2 = f32x4.add(f32x4.add(a0, a1), a2), t2 = f32x4.sub(f32x4.sub(a1, a2), a3);
    a0 = v128.load(p + 12 * fStep); a1 = v128.load(p + 28 * fStep); a2 = v128.load(p + 44 * fStep); a3 = v128.load(p + 60 * fStep);
    const s3 = f32x4.add(f32x4.add(a0, a1), a2), t3 = f32x4.sub(f32x4.sub(a1, a2), a3);
    put(sp, x, f32x4.add(f32x4.add(s0, s1), s2));
    put(sp, 4 + x, f32x4.sub(f32x4.sub(s1, s2), s3));
    put(sp, 8 + x, f32x4.add(f32x4.add(t0, t1), t2));
    put(sp, 12 + x, f32x4.sub(f32x4.sub(t1, t2), t3));
  }
  // along x, interleaving each lane's two outputs into consecutive columns
  const x0 = 2 * q, cols = min(8, oW - x0);
  for (let zy = 0; zy < 4; zy++) {
    const oz = 2 * tz + (zy >> 1), oy = 2 * ty + (zy & 1);
    if (oz >= oD || oy >= oH) continue;
    const i = zy * 4;
    const a0 = s(sp, i), a1 = s(sp, i + 1), a2 = s(sp, i + 2), a3 = s(sp, i + 3);
    const y0 = f32x4.add(f32x4.add(a0, a1), a2), y1 = f32x4.sub(f32x4.sub(a1, a2), a3);
    const lo = i32x4.shuffle(y0, y1, 0, 4, 1, 5), hi = i32x4.shuffle(y0, y1, 2, 6, 3, 7);
    const p = at(out, (oz * oH + oy) * oW + x0);
    storeLanes(p, lo, cols);
    storeLanes(p + 16, hi, cols - 4);
  }
}

/**
 * y = the convolution of a batch of zero-padded frames (src: n samples of K channels, channel stride srcCS,
 * sample stride srcNS, rows Wf floats, planes Hf rows, 8 floats of slack past the end) with the
 * transformed weights V (as winoWeight lays them out), into dst (n samples of M channels, channel stride dstCS,
 * sample stride dstNS, oD × oH × oW). Work goes in blocks of R tile rows (R·tW tiles) of one sample; a
 * block's transformed input U[f][k][tile] (planes uF floats apart, rows ld), its 64 products C[f][m][tile]
 * (planes cF apart) and 1 KiB of intermediate values stay in one slot of `slotFloats` floats at slots, so
 * they stay in cache from transform to product to output. A part holds one of the nSlots slots (no more
 * parts run at once) while it works, claimed through the i32 flags at `flags`.
 */
export function winoConv(src: usize, srcCS: i32, srcNS: i32, Hf: i32, Wf: i32, K: i32, M: i32, n: i32, tD: i32, tH: i32,
                         tW: i32, R: i32, v: usize, vStride: i32, dst: usize, dstCS: i32, dstNS: i32, oD: i32, oH: i32,
                         oW: i32, slots: usize, slotFloats: i32, ld: i32, uF: i32, cF: i32, flags: usize, nSlots: i32,
                         tid: i32, nt: i32): void {
  const rows = tD * tH, perSample = (rows + R - 1) / R, blocks = n * perSample;
  const b0 = share(blocks, tid, nt, 1), b1 = share(blocks, tid + 1, nt, 1);
  if (b0 >= b1) return;
  let slot = 0;
  if (ASC_FEATURE_THREADS) {
    while (atomic.cmpxchg<i32>(flags + (<usize>slot << 2), 0, 1) != 0) slot = (slot + 1) % nSlots;
  }
  const sp = at(slots, slot * slotFloats), u = sp + 1024, c = at(u, 64 * uF);
  const ldB = <usize>ld << 2, uStep = <usize>uF << 2, cStep = <usize>cF << 2;
  for (let blk = b0; blk < b1; blk++) {
    const b = blk / perSample, r0 = (blk - b * perSample) * R, nr = min(R, rows - r0), nb = nr * tW;
    const frame = at(src, b * srcNS), out = at(dst, b * dstNS);
    for (let k = 0; k < K; k++) {
      for (let rr = 0; rr < nr; rr++) {
        const r = r0 + rr, tz = r / tH, ty = r - tz * tH;
        const base = at(frame, k * srcCS + (2 * tz * Hf + 2 * ty) * Wf), row = at(u, k * ld + rr * tW);
        // whole vectors: a partial quad's extra lanes land on the next row's first tiles, rewritten next,
        // or in the row padding past the block
        for (let q = 0; q < tW; q += 4) inputQuad(at(base, 2 * q), Hf, Wf, sp, at(row, q), uStep);
      }
    }
    const N = (nb + 7) & ~7;
    for (let f = 0; f < 64; f++) {
      const af = at(v, f * vStride), uf = u + <usize>f * uStep, cf = c + <usize>f * cStep;
      for (let m0 = 0; m0 < M; m0 += 4) {
        const am = at(af, m0 * K), cm = at(cf, m0 * ld), rowsValid = min(4, M - m0);
        for (let j = 0; j < N; j += 8) packedTile(am, at(uf, j), ldB, K, at(cm, j), ldB, rowsValid, 8);
      }
    }
    for (let m = 0; m < M; m++) {
      for (let rr = 0; rr < nr; rr++) {
        const r = r0 + rr, tz = r / tH, ty = r - tz * tH, row = at(c, m * ld + rr * tW);
        for (let q = 0; q < tW; q += 4) outputQuad(at(row, q), cStep, sp, at(out, m * dstCS), tz, ty, q, oD, oH, oW);
      }
    }
  }
  if (ASC_FEATURE_THREADS) atomic.store<i32>(flags + (<usize>slot << 2), 0);
}

/**
 * C[f·cStride + m·ld + t] = Σ_k V[f][m][k]·U[f·uStride + k·ld + t] for the N tiles (rounded up to 8) of the
 * 64 transform points: the staged route's products. Where the transformed weights outgrow the caches,
 * winoConv would stream all of them past every block of tiles; here a part takes (point, 8 tiles) units in
 * order, so one point's V and U stay in cache while it works through them. Within a unit the 8 columns of U
 * stay in L1 while the point's weights stream past, 4 output channels a tile (rather than 4 channels' weights
 * staying while all of U's columns stream: LA 256→256 @7×7×5 products 17.5–18.3 against 16.0–16.3 ms on one
 * thread, best of five each in three alternating runs).
 */
export function winoProduct(v: usize, vStride: i32, K: i32, M: i32, u: usize, uStride: i32, ld: i32, N: i32, c: usize,
                            cStride: i32, tid: i32, nt: i32): void {
  const mBlocks = (M + 3) >> 2, nTiles = (N + 7) >> 3, ldB = <usize>ld << 2;
  const w0 = share(64 * nTiles, tid, nt, 1), w1 = share(64 * nTiles, tid + 1, nt, 1);
  for (let w = w0; w < w1; w++) {
    const f = w / nTiles, j = (w - f * nTiles) << 3;
    const vf = at(v, f * vStride), uj = at(u, f * uStride + j), cf = at(c, f * cStride + j);
    for (let mb = 0; mb < mBlocks; mb++) {
      const m0 = mb << 2;
      packedTile(at(vf, m0 * K), uj, ldB, K, at(cf, m0 * ld), ldB, min(4, M - m0), 8);
    }
  }
}

/**
 * y from the staged products C (winoProduct's layout; sample b's tiles from b·tD·tH·tW in tile-row order)
 * by the output transform, into dst (n samples of M channels, channel stride dstCS, sample stride dstNS,
 * oD × oH × oW). C needs 3 floats of slack past its last row: a row's last quad reads whole vectors.
 * Parts take (sample, channel, tile row) units.
 */
export function winoOutput(c: usize, cStride: i32, ld: i32, M: i32, n: i32, tD: i32, tH: i32, tW: i32, dst: usize,
                           dstCS: i32, dstNS: i32, oD: i32, oH: i32, oW: i32, scratch: usize, tid: i32, nt: i32): void {
  const rows = tD * tH, perSample = M * rows;
  const w0 = share(n * perSample, tid, nt, 1), w1 = share(n * perSample, tid + 1, nt, 1);
  const sp = scratch + (<usize>tid << 10), cStep = <usize>cStride << 2;
  for (let w = w0; w < w1; w++) {
    const b = w / perSample, rem = w - b * perSample, m = rem / rows, r = rem - m * rows, tz = r / tH, ty = r - tz * tH;
    const row = at(c, m * ld + (b * rows + r) * tW), out = at(dst, b * dstNS + m * dstCS);
    for (let q = 0; q < tW; q += 4) outputQuad(at(row, q), cStep, sp, out, tz, ty, q, oD, oH, oW);
  }
}

/**
 * The weight gradient's view of dy: D[f·fStride + c·ld + tile] = (A d Aᵀ) over each axis of the 2×2×2
 * tile d, the adjoint of the output transform, for the nr·tW tiles of tile rows row0 .. row0 + nr − 1.
 * src is a frame of C channels (channel stride srcCS, rows Wf = 2·tW floats, planes Hf rows, zeros past
 * dy's edge, 8 floats of slack). Quads are stored whole, as in winoInput.
 */
export function winoGradOutput(src: usize, srcCS: i32, Hf: i32, Wf: i32, C: i32, row0: i32, nr: i32, tH: i32, tW: i32,
                               d: usize, ld: i32, fStride: i32, tid: i32, nt: i32): void {
  const c0 = share(C, tid, nt, 1), c1 = share(C, tid + 1, nt, 1), fStep = <usize>fStride << 2;
  for (let c = c0; c < c1; c++) {
    for (let rr = 0; rr < nr; rr++) {
      const tz = (row0 + rr) / tH, ty = row0 + rr - tz * tH;
      const base = at(src, c * srcCS + (2 * tz * Hf + 2 * ty) * Wf), dRow = at(d, c * ld + rr * tW);
      for (let q = 0; q < tW; q += 4) gradOutputQuad(at(base, 2 * q), Hf, Wf, at(dRow, q), fStep);
    }
  }
}

/**
 * The adjoint output transform of four neighbouring 2×2×2 tiles along W (lanes) at p0 + 4·lane floats in a
 * frame of rows Wf floats and planes Hf rows; value f of lane i goes to dst + f·fStep + 4·i, all four lanes.
 */
@inline function gradOutputQuad(p0: usize, Hf: i32, Wf: i32, dst: usize, fStep: usize): void {
  // along x: [2 z][2 y][2 x] → even and odd columns, the x transform being (e, e + o, e − o, −o)
  const p1 = at(p0, Wf), p2 = at(p0, Hf * Wf), p3 = at(p2, Wf);
  let v0 = v128.load(p0), v1 = v128.load(p0, 16);
  const e00 = i32x4.shuffle(v0, v1, 0, 2, 4, 6), o00 = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
  v0 = v128.load(p1); v1 = v128.load(p1, 16);
  const e01 = i32x4.shuffle(v0, v1, 0, 2, 4, 6), o01 = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
  v0 = v128.load(p2); v1 = v128.load(p2, 16);
  const e10 = i32x4.shuffle(v0, v1, 0, 2, 4, 6), o10 = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
  v0 = v128.load(p3); v1 = v128.load(p3, 16);
  const e11 = i32x4.shuffle(v0, v1, 0, 2, 4, 6), o11 = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
  // then along y and z, one x component at a time
  gradOutputColumn(e00, e01, e10, e11, dst, fStep);
  gradOutputColumn(f32x4.add(e00, o00), f32x4.add(e01, o01), f32x4.add(e10, o10), f32x4.add(e11, o11), dst + fStep, fStep);
  gradOutputColumn(f32x4.sub(e00, o00), f32x4.sub(e01, o01), f32x4.sub(e10, o10), f32x4.sub(e11, o11), dst + 2 * fStep, fStep);
  gradOutputColumn(f32x4.neg(o00), f32x4.neg(o01), f32x4.neg(o10), f32x4.neg(o11), dst + 3 * fStep, fStep);
}

/** The y and z transforms (a, a + b, a − b, −b) of one x component, from its values x[z][y], to dst + f·fStep. */
@inline function gradOutputColumn(x00: v128, x01: v128, x10: v128, x11: v128, dst: usize, fStep: usize): void {
  const y00 = x00, y01 = f32x4.add(x00, x01), y02 = f32x4.sub(x00, x01), y03 = f32x4.neg(x01);
  const y10 = x10, y11 = f32x4.add(x10, x11), y12 = f32x4.sub(x10, x11), y13 = f32x4.neg(x11);
  const step = 4 * fStep;
  v128.store(dst, y00);
  v128.store(dst + step, y01);
  v128.store(dst + 2 * step, y02);
  v128.store(dst + 3 * step, y03);
  v128.store(dst + 4 * step, f32x4.add(y00, y10));
  v128.store(dst + 5 * step, f32x4.add(y01, y11));
  v128.store(dst + 6 * step, f32x4.add(y02, y12));
  v128.store(dst + 7 * step, f32x4.add(y03, y13));
  v128.store(dst + 8 * step, f32x4.sub(y00, y10));
  v128.store(dst + 9 * step, f32x4.sub(y01, y11));
  v128.store(dst + 10 * step, f32x4.sub(y02, y12));
  v128.store(dst + 11 * step, f32x4.sub(y03, y13));
  v128.store(dst + 12 * step, f32x4.neg(y10));
  v128.store(dst + 13 * step, f32x4.neg(y11));
  v128.store(dst + 14 * step, f32x4.neg(y12));
  v128.store(dst + 15 * step, f32x4.neg(y13));
}

/** [Σ a, Σ b, Σ c, Σ d]: the lanes of four vectors summed, each in the same order. */
@inline function fold4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 4, 2, 6), i32x4.shuffle(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 4, 2, 6), i32x4.shuffle(c, d, 1, 5, 3, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/**
 * e0[m .. m + 3] += Σ_{t<T} A_m[t]·B0[t] and, with two, e0[Mp .. Mp + 3] += Σ_t A_m[t]·B1[t] (= without
 * add), for the rows A_m at pa0 .. pa3 and B0, B1 at pb0, pb1: four-lane partial sums folded at the end, so that every
 * sum has one order. Lanes past T are masked off in both operands (they may hold any finite or
 * non-finite value).
 */
@inline function dotTile(pa0: usize, pa1: usize, pa2: usize, pa3: usize, pb0: usize, pb1: usize, T: i32,
                         e0: usize, MpB: usize, two: bool, add: bool): void {
  let s00 = f32x4.splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  const full = <usize>(T & ~3) << 2;
  for (let o: usize = 0; o < full; o += 16) {
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
  if (T & 3) {
    const tail = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(T & 3));
    const b0 = v128.and(v128.load(pb0 + full), tail), b1 = v128.and(v128.load(pb1 + full), tail);
    let av = v128.and(v128.load(pa0 + full), tail);
    s00 = fma(av, b0, s00); s01 = fma(av, b1, s01);
    av = v128.and(v128.load(pa1 + full), tail);
    s10 = fma(av, b0, s10); s11 = fma(av, b1, s11);
    av = v128.and(v128.load(pa2 + full), tail);
    s20 = fma(av, b0, s20); s21 = fma(av, b1, s21);
    av = v128.and(v128.load(pa3 + full), tail);
    s30 = fma(av, b0, s30); s31 = fma(av, b1, s31);
  }
  const t0 = fold4(s00, s10, s20, s30), t1 = fold4(s01, s11, s21, s31);
  v128.store(e0, add ? f32x4.add(v128.load(e0), t0) : t0);
  if (two) v128.store(e0 + MpB, add ? f32x4.add(v128.load(e0 + MpB), t1) : t1);
}

/**
 * E[f·eStride + k·Mp + m] += Σ_{t<T} D[f·dStride + m·ld + t]·U[f·uStride + k·ld + t] (= for the first
 * chunk, without accumulate) for the 64 transform points (Mp = M rounded up to 4; rows past M hold
 * copies of the last). Units are 4 m × 2 k tiles of one point.
 */
export function winoDot(M: i32, K: i32, T: i32, ld: i32, d: usize, dStride: i32, u: usize, uStride: i32, e: usize,
                        eStride: i32, accumulate: bool, tid: i32, nt: i32): void {
  const mBlocks = (M + 3) >> 2, kBlocks = (K + 1) >> 1, per = mBlocks * kBlocks, Mp = mBlocks << 2;
  const u0 = share(64 * per, tid, nt, 1), u1 = share(64 * per, tid + 1, nt, 1);
  const tB = <usize>ld << 2;
  for (let w = u0; w < u1; w++) {
    const f = w / per, r = w - f * per, mb = r / kBlocks, m = mb << 2, k = (r - mb * kBlocks) << 1;
    const df = at(d, f * dStride), uf = at(u, f * uStride);
    dotTile(df + <usize>m * tB, df + <usize>min(m + 1, M - 1) * tB, df + <usize>min(m + 2, M - 1) * tB,
            df + <usize>min(m + 3, M - 1) * tB, uf + <usize>k * tB, uf + <usize>min(k + 1, K - 1) * tB, T,
            at(e, f * eStride + k * Mp + m), <usize>Mp << 2, k + 1 < K, accumulate);
  }
}

/**
 * Ut[f·utStride + (k >> 3)·8T + 8t + (k & 7)] = U[f·uStride + k·ld + t] for t < T and k < K rounded up to 8
 * (rows past K repeat the last): per point and block of 8 input channels, the 8 channels of each tile in
 * turn, winoGradDirect's B operand read 32 contiguous bytes a step. Parts take (point, four channels)
 * units, transposed four tiles at a time.
 */
export function winoTransposeU(u: usize, uStride: i32, K: i32, T: i32, ld: i32, ut: usize, utStride: i32, tid: i32, nt: i32): void {
  const Kp = (K + 7) & ~7, quads = Kp >> 2, w0 = share(64 * quads, tid, nt, 1), w1 = share(64 * quads, tid + 1, nt, 1);
  const rowB = <usize>ld << 2;
  for (let w = w0; w < w1; w++) {
    const f = w / quads, k = (w - f * quads) << 2, uf = at(u, f * uStride);
    const s0 = uf + <usize>min(k, K - 1) * rowB, s1 = uf + <usize>min(k + 1, K - 1) * rowB;
    const s2 = uf + <usize>min(k + 2, K - 1) * rowB, s3 = uf + <usize>min(k + 3, K - 1) * rowB;
    let q = at(ut, f * utStride + (k >> 3) * 8 * T + (k & 7)), t = 0;
    for (; t + 4 <= T; t += 4, q += 128) {
      const o = <usize>t << 2;
      storeTransposed(q, 32, v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o));
    }
    for (; t < T; t++, q += 32) {
      const o = <usize>t << 2;
      store<f32>(q, load<f32>(s0 + o)); store<f32>(q, load<f32>(s1 + o), 4);
      store<f32>(q, load<f32>(s2 + o), 8); store<f32>(q, load<f32>(s3 + o), 12);
    }
  }
}

/** Blocks of four output channels that a unit of winoGradDirect sums at once. */
const DIRECT_BLOCKS = 4;
/** Input channels that a unit of winoGradDirect sums at once: one tile's width. */
const DIRECT_KS = 8;

/**
 * dw[(m·K + k)·27 + tap] = the adjoint weight transform of Σ_{t<T} D[f·dStride + m·ld + t]·U[f·uStride + k·ld + t]
 * over every tile at once, U read as winoTransposeU's Ut, with no buffer of sums: a unit takes DIRECT_BLOCKS
 * blocks of four output channels and DIRECT_KS input channels, sums their 64 points as 4 × 8 register
 * tiles over the tiles t (rows of D broadcast, rows of Ut as vectors), keeps them in the part's 33 KiB of
 * scratch (32 KiB of sums, 1 KiB for the transform) and transforms them straight to dw. (Dot products
 * over t, as winoDot, were slower at these 48–128 tiles: 128→128 @4×6×4 2.7 against 2.1 ms.) Units go
 * input channels innermost, so that a part's rows of D stay in L2 while Ut streams past. Every sum runs
 * in t order, however the work is cut.
 */
export function winoGradDirect(M: i32, K: i32, T: i32, ld: i32, d: usize, dStride: i32, ut: usize, utStride: i32,
                               dw: usize, scratch: usize, tid: i32, nt: i32): void {
  const mBlocks = (M + 3) >> 2, groups = (mBlocks + DIRECT_BLOCKS - 1) / DIRECT_BLOCKS, kUnits = (K + DIRECT_KS - 1) / DIRECT_KS;
  const w0 = share(groups * kUnits, tid, nt, 1), w1 = share(groups * kUnits, tid + 1, nt, 1);
  // block j's sums at j·8 KiB: per input channel of the unit its 64 points, 1 KiB each
  const sums = scratch + <usize>tid * 33792, b = sums + 32768, rowB = <usize>ld << 2, kB = <usize>K * 108;
  for (let w = w0; w < w1; w++) {
    const grp = w / kUnits, k0 = (w - grp * kUnits) * DIRECT_KS, k1 = min(K, k0 + DIRECT_KS);
    const mb0 = grp * DIRECT_BLOCKS, mb1 = min(mBlocks, mb0 + DIRECT_BLOCKS);
    for (let f = 0; f < 64; f++) {
      const df = at(d, f * dStride), bf = at(ut, f * utStride + k0 * T), e = sums + (<usize>f << 4);
      for (let mb = mb0; mb < mb1; mb++) {
        const m = mb << 2;
        // rows past M repeat the last; their lanes are not transformed
        const a0 = df + <usize>m * rowB, a1 = df + <usize>min(m + 1, M - 1) * rowB;
        const a2 = df + <usize>min(m + 2, M - 1) * rowB, a3 = df + <usize>min(m + 3, M - 1) * rowB;
        tile4x8(a0, a1, a2, a3, 4, 0, bf, 32, 0, T, ARows.STRIDED, false, false);
        // per input channel of the unit, the block's four output channels as one vector
        const q = e + (<usize>(mb - mb0) << 13);
        storeTransposed(q, 1024, acc00, acc10, acc20, acc30);
        storeTransposed(q + 4096, 1024, acc01, acc11, acc21, acc31);
      }
    }
    for (let mb = mb0; mb < mb1; mb++) {
      const m0 = mb << 2, lanes = min(4, M - m0), e = sums + (<usize>(mb - mb0) << 13);
      for (let k = k0; k < k1; k++) adjointWeight(e + (<usize>(k - k0) << 10), 16, 1, 0, b, at(dw, (m0 * K + k) * 27), kB, lanes);
    }
  }
}

/**
 * The weight gradient's sums for the tiles of a batch, in groups: group g sums blocks of R tile rows
 * (R·tW tiles) of one sample, blocks g·B/G .. (g + 1)·B/G − 1 of the B, into its own E at
 * e + g·eGroup floats (winoDot's layout). Per block, U of x's frame (as in winoConv) and D of dy's
 * frame (gd: channel stride gCS, sample stride gNS, rows 2·tW, planes 2·tH) go to a slot (planes uF and
 * dF floats apart, rows ld) and are multiplied there, in cache. Which part takes a group does not
 * change its sums.
 */
export function winoGradBlocks(src: usize, srcCS: i32, srcNS: i32, Hf: i32, Wf: i32, gd: usize, gCS: i32, gNS: i32,
                               K: i32, M: i32, n: i32, tD: i32, tH: i32, tW: i32, R: i32, G: i32, e: usize, eStride: i32,
                               eGroup: i32, slots: usize, slotFloats: i32, ld: i32, uF: i32, dF: i32, flags: usize,
                               nSlots: i32, tid: i32, nt: i32): void {
  const rows = tD * tH, perSample = (rows + R - 1) / R, blocks = n * perSample;
  const g0 = share(G, tid, nt, 1), g1 = share(G, tid + 1, nt, 1);
  if (g0 >= g1) return;
  let slot = 0;
  if (ASC_FEATURE_THREADS) {
    while (atomic.cmpxchg<i32>(flags + (<usize>slot << 2), 0, 1) != 0) slot = (slot + 1) % nSlots;
  }
  const sp = at(slots, slot * slotFloats), u = sp + 1024, d = at(u, 64 * uF);
  const ldB = <usize>ld << 2, uStep = <usize>uF << 2, dStep = <usize>dF << 2;
  const mBlocks = (M + 3) >> 2, Mp = mBlocks << 2, MpB = <usize>Mp << 2;
  for (let g = g0; g < g1; g++) {
    const eg = at(e, g * eGroup);
    const bEnd = <i32>((<i64>blocks * (g + 1)) / G);
    for (let blk = <i32>((<i64>blocks * g) / G); blk < bEnd; blk++) {
      const b = blk / perSample, r0 = (blk - b * perSample) * R, nr = min(R, rows - r0), nb = nr * tW;
      const frame = at(src, b * srcNS), dyFrame = at(gd, b * gNS);
      // whole vectors, as in winoConv: a partial quad's extra lanes are rewritten or fall past the block
      for (let k = 0; k < K; k++) {
        for (let rr = 0; rr < nr; rr++) {
          const r = r0 + rr, tz = r / tH, ty = r - tz * tH;
          const base = at(frame, k * srcCS + (2 * tz * Hf + 2 * ty) * Wf), row = at(u, k * ld + rr * tW);
          for (let q = 0; q < tW; q += 4) inputQuad(at(base, 2 * q), Hf, Wf, sp, at(row, q), uStep);
        }
      }
      for (let m = 0; m < M; m++) {
        for (let rr = 0; rr < nr; rr++) {
          const r = r0 + rr, tz = r / tH, ty = r - tz * tH;
          const base = at(dyFrame, m * gCS + (4 * tz * tH + 2 * ty) * 2 * tW), row = at(d, m * ld + rr * tW);
          for (let q = 0; q < tW; q += 4) gradOutputQuad(at(base, 2 * q), 2 * tH, 2 * tW, at(row, q), dStep);
        }
      }
      for (let f = 0; f < 64; f++) {
        const df = d + <usize>f * dStep, uf = u + <usize>f * uStep, ef = at(eg, f * eStride);
        for (let mb = 0; mb < mBlocks; mb++) {
          const m = mb << 2;
          const pa0 = df + <usize>m * ldB, pa1 = df + <usize>min(m + 1, M - 1) * ldB;
          const pa2 = df + <usize>min(m + 2, M - 1) * ldB, pa3 = df + <usize>min(m + 3, M - 1) * ldB;
          for (let k = 0; k < K; k += 2) {
            dotTile(pa0, pa1, pa2, pa3, uf + <usize>k * ldB, uf + <usize>min(k + 1, K - 1) * ldB, nb,
                    at(ef, k * Mp + m), MpB, k + 1 < K, true);
          }
        }
      }
    }
  }
  if (ASC_FEATURE_THREADS) atomic.store<i32>(flags + (<usize>slot << 2), 0);
}

/** Σ_g of the vectors at p + g·gB, g < G, in order of g. */
@inline function groupSum(p: usize, G: i32, gB: usize): v128 {
  let x = v128.load(p);
  for (let g = 1; g < G; g++) x = f32x4.add(x, v128.load(p + <usize>g * gB));
  return x;
}

/** d0 + 0.5·(d1 + d2), 0.5·(d1 − d2), 0.5·(d1 + d2) + d3: the rows of Gᵀ. */
@inline function gt0(d0: v128, d1: v128, d2: v128): v128 { return f32x4.add(d0, f32x4.mul(f32x4.splat(0.5), f32x4.add(d1, d2))); }
@inline function gt1(d1: v128, d2: v128): v128 { return f32x4.mul(f32x4.splat(0.5), f32x4.sub(d1, d2)); }
@inline function gt2(d1: v128, d2: v128, d3: v128): v128 { return f32x4.add(f32x4.mul(f32x4.splat(0.5), f32x4.add(d1, d2)), d3); }

/**
 * The kernels g[lane·K·27 + tap] (the first `lanes` lanes) = (Gᵀ e G) over each axis of e = Σ_g the
 * vectors at e + f·fStep + g·gB (G groups), lanes being four output channels: the adjoint of winoWeight's
 * transform. b: 1 KiB of scratch.
 */
@inline function adjointWeight(e: usize, fStep: usize, G: i32, gB: usize, b: usize, g: usize, kB: usize, lanes: i32): void {
  for (let z = 0; z < 4; z++) {
    for (let y = 0; y < 4; y++) {
      // along x for row (z, y), kept at 36.. for the y stage
      const p = e + <usize>((z * 4 + y) * 4) * fStep;
      const d0 = groupSum(p, G, gB), d1 = groupSum(p + fStep, G, gB), d2 = groupSum(p + 2 * fStep, G, gB), d3 = groupSum(p + 3 * fStep, G, gB);
      put(b, 36 + y * 3, gt0(d0, d1, d2));
      put(b, 36 + y * 3 + 1, gt1(d1, d2));
      put(b, 36 + y * 3 + 2, gt2(d1, d2, d3));
    }
    for (let x = 0; x < 3; x++) {
      const d0 = s(b, 36 + x), d1 = s(b, 39 + x), d2 = s(b, 42 + x), d3 = s(b, 45 + x);
      put(b, z * 9 + x, gt0(d0, d1, d2));
      put(b, z * 9 + 3 + x, gt1(d1, d2));
      put(b, z * 9 + 6 + x, gt2(d1, d2, d3));
    }
  }
  // along z, each lane to its channel's kernel
  for (let yx = 0; yx < 9; yx++) {
    const d0 = s(b, yx), d1 = s(b, 9 + yx), d2 = s(b, 18 + yx), d3 = s(b, 27 + yx);
    const t0 = gt0(d0, d1, d2), t1 = gt1(d1, d2), t2 = gt2(d1, d2, d3);
    const q = g + (<usize>yx << 2);
    store<f32>(q, f32x4.extract_lane(t0, 0)); store<f32>(q, f32x4.extract_lane(t1, 0), 36); store<f32>(q, f32x4.extract_lane(t2, 0), 72);
    if (lanes > 1) {
      store<f32>(q + kB, f32x4.extract_lane(t0, 1)); store<f32>(q + kB, f32x4.extract_lane(t1, 1), 36);
      store<f32>(q + kB, f32x4.extract_lane(t2, 1), 72);
    }
    if (lanes > 2) {
      store<f32>(q + 2 * kB, f32x4.extract_lane(t0, 2)); store<f32>(q + 2 * kB, f32x4.extract_lane(t1, 2), 36);
      store<f32>(q + 2 * kB, f32x4.extract_lane(t2, 2), 72);
    }
    if (lanes > 3) {
      store<f32>(q + 3 * kB, f32x4.extract_lane(t0, 3)); store<f32>(q + 3 * kB, f32x4.extract_lane(t1, 3), 36);
      store<f32>(q + 3 * kB, f32x4.extract_lane(t2, 3), 72);
    }
  }
}

/**
 * dw[(m·K + k)·27 + tap] = (Gᵀ e G) over each axis of e = Σ_g E[g·eGroup + f·fStride + k·Mp + m] (G groups
 * of winoDot's layout, Mp = M rounded up to 4): the adjoint of winoWeight. Lanes take four output
 * channels. Threads take (k, four channels) pairs.
 */
export function winoWeightGrad(v: usize, fStride: i32, G: i32, eGroup: i32, M: i32, K: i32, dw: usize, scratch: usize,
                               tid: i32, nt: i32): void {
  const mBlocks = (M + 3) >> 2, n = mBlocks * K, Mp = mBlocks << 2, gB = <usize>eGroup << 2;
  const i0 = share(n, tid, nt, 1), i1 = share(n, tid + 1, nt, 1);
  const b = scratch + (<usize>tid << 10), fStep = <usize>fStride << 2, kB = <usize>K * 108;
  for (let i = i0; i < i1; i++) {
    // channel blocks innermost: the next units read the rest of the cache lines of each point's sums
    const k = i / mBlocks, mb = i - k * mBlocks, m0 = mb << 2;
    adjointWeight(at(v, k * Mp + m0), fStep, G, gB, b, at(dw, (m0 * K + k) * 27), kB, min(4, M - m0));
  }
}
