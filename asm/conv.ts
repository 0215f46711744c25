// Data movement around the convolution GEMMs: shifting a volume into a zero-padded (or cropped) frame,
// and im2col / col2im for strided convolutions. Geometry descriptor (i32, written by the host):
// [C, D, H, W, kD, kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW, oD, oH, oW].
import { at, share } from './common';

/**
 * dst[c, z, y, x] = src[c, z + oz, y + oy, x + ox], or 0 outside src; frames are [D, H, W] per channel
 * with channel strides srcCS and dstCS. Threads take whole rows.
 */
export function window3d(src: usize, srcCS: i32, sD: i32, sH: i32, sW: i32, dst: usize, dstCS: i32, dD: i32, dH: i32, dW: i32,
                         oz: i32, oy: i32, ox: i32, C: i32, tid: i32, nt: i32): void {
  const rows = C * dD * dH;
  const r0 = share(rows, tid, nt, 1), r1 = share(rows, tid + 1, nt, 1);
  if (r0 >= r1) return;
  const x0 = min(dW, max(0, -ox)), x1 = max(x0, min(dW, sW - ox));
  // rows are often short (the shifted copies of deep layers are 2–8 wide): step the indices, no divisions
  let c = r0 / (dD * dH), z = (r0 / dH) % dD, y = r0 % dH;
  for (let r = r0; r < r1; r++) {
    windowRow(src, srcCS, sD, sH, sW, at(dst, c * dstCS + (z * dH + y) * dW), dW, c, z + oz, y + oy, ox, x0, x1);
    if (++y == dH) { y = 0; if (++z == dD) { z = 0; c++; } }
  }
}

/**
 * The hCopies × wCopies windows of src that a shifted-row frame holds (engine/backends/wasm/conv.ts), in
 * one call: copy (kh, kw) is window3d at (oz, oy + kh·stepY, ox + kw·stepX), written at dst + (kh·wCopies
 * + kw)·copyVol floats. Threads take whole rows of all of them.
 */
export function windowCopies(src: usize, srcCS: i32, sD: i32, sH: i32, sW: i32, dst: usize, dstCS: i32, copyVol: i32,
                             dD: i32, dH: i32, dW: i32, oz: i32, oy: i32, ox: i32, hCopies: i32, wCopies: i32,
                             stepY: i32, stepX: i32, C: i32, tid: i32, nt: i32): void {
  const perCopy = C * dD * dH, rows = hCopies * wCopies * perCopy;
  const r0 = share(rows, tid, nt, 1), r1 = share(rows, tid + 1, nt, 1);
  if (r0 >= r1) return;
  let copy = r0 / perCopy, c = (r0 / (dD * dH)) % C, z = (r0 / dH) % dD, y = r0 % dH;
  let kh = copy / wCopies, kw = copy - kh * wCopies;
  let cx = ox + kw * stepX, x0 = min(dW, max(0, -cx)), x1 = max(x0, min(dW, sW - cx));
  for (let r = r0; r < r1; r++) {
    const d = at(dst, copy * copyVol + c * dstCS + (z * dH + y) * dW);
    windowRow(src, srcCS, sD, sH, sW, d, dW, c, z + oz, y + oy + kh * stepY, cx, x0, x1);
    if (++y < dH) continue;
    y = 0;
    if (++z < dD) continue;
    z = 0;
    if (++c < C) continue;
    c = 0; copy++;
    kh = copy / wCopies; kw = copy - kh * wCopies;
    cx = ox + kw * stepX; x0 = min(dW, max(0, -cx)); x1 = max(x0, min(dW, sW - cx));
  }
}

/** Row d (dW floats) = src channel c's row (sz, sy) from column ox on, zeros outside src ([x0, x1) lies inside). */
@inline
function windowRow(src: usize, srcCS: i32, sD: i32, sH: i32, sW: i32, d: usize, dW: i32, c: i32, sz: i32, sy: i32, ox: i32,
                   x0: i32, x1: i32): void {
  if (sz < 0 || sz >= sD || sy < 0 || sy >= sH) {
    zeros(d, dW);
    return;
  }
  const s = at(src, c * srcCS + (sz * sH + sy) * sW + ox);
  zeros(d, x0);
  let x = x0;
  for (; x + 4 <= x1; x += 4) v128.store(at(d, x), v128.load(at(s, x)));
  for (; x < x1; x++) store<f32>(at(d, x), load<f32>(at(s, x)));
  zeros(at(d, x1), dW - x1);
}

@inline function zeros(p: usize, n: i32): void {
  if (n >= 16) { memory.fill(p, 0, <usize>n << 2); return; }
  for (let i = 0; i < n; i++) store<f32>(at(p, i), 0);
}

@inline function g(geom: usize, i: i32): i32 { return load<i32>(geom + (<usize>i << 2)); }

/** First output index o (clamped to [0, n]) with o·s ≥ lo: where a tap starts reading inside x. */
@inline function validFrom(lo: i32, s: i32, n: i32): i32 {
  return lo <= 0 ? 0 : min(n, (lo + s - 1) / s);
}

/** One past the last output index o (clamped to [0, n]) with o·s ≤ hi. */
@inline function validTo(hi: i32, s: i32, n: i32): i32 {
  return hi < 0 ? 0 : min(n, hi / s + 1);
}

/**
 * col[r·pitch + pos] = x[c, od·s − p + kd·d, …] (or 0 in the padding) for row r = (c, kd, kh, kw) and
 * output position pos = (od, oh, ow). Threads take rows.
 */
export function im2col(x: usize, geom: usize, col: usize, pitch: i32, tid: i32, nt: i32): void {
  const C = g(geom, 0), D = g(geom, 1), H = g(geom, 2), W = g(geom, 3);
  const kD = g(geom, 4), kH = g(geom, 5), kW = g(geom, 6), sD = g(geom, 7), sH = g(geom, 8), sW = g(geom, 9);
  const pD = g(geom, 10), pH = g(geom, 11), pW = g(geom, 12), dD = g(geom, 13), dH = g(geom, 14), dW = g(geom, 15);
  const oD = g(geom, 16), oH = g(geom, 17), oW = g(geom, 18);
  const taps = kD * kH * kW;
  const r0 = share(C * taps, tid, nt, 1), r1 = share(C * taps, tid + 1, nt, 1);
  const xStep = <usize>sW << 2;
  for (let r = r0; r < r1; r++) {
    const c = r / taps, t = r - c * taps, kd = t / (kH * kW), kh = (t / kW) % kH, kw = t % kW;
    const ow0 = validFrom(pW - kw * dW, sW, oW), ow1 = max(ow0, validTo(W - 1 + pW - kw * dW, sW, oW));
    let o = at(col, r * pitch);
    const xc = at(x, c * D * H * W);
    for (let od = 0; od < oD; od++) {
      const id = od * sD - pD + kd * dD;
      for (let oh = 0; oh < oH; oh++) {
        const ih = oh * sH - pH + kh * dH;
        if (id < 0 || id >= D || ih < 0 || ih >= H) {
          memory.fill(o, 0, <usize>oW << 2);
          o += <usize>oW << 2;
          continue;
        }
        const xr = at(xc, kw * dW - pW);
        let ow = 0;
        for (; ow < ow0; ow++) { store<f32>(o, 0); o += 4; }
        let xi = at(xr, (id * H + ih) * W + ow0 * sW);
        if (sW == 2) {
          // stride 2 (the down-convs): the even lanes of two vectors; the last may read one float past the row
          for (; ow + 4 <= ow1; ow += 4) {
            v128.store(o, i32x4.shuffle(v128.load(xi), v128.load(xi, 16), 0, 2, 4, 6));
            o += 16; xi += 32;
          }
        } else if (sW == 1) {
          for (; ow + 4 <= ow1; ow += 4) { v128.store(o, v128.load(xi)); o += 16; xi += 16; }
        }
        for (; ow < ow1; ow++) { store<f32>(o, load<f32>(xi)); o += 4; xi += xStep; }
        for (; ow < oW; ow++) { store<f32>(o, 0); o += 4; }
      }
    }
  }
}

/**
 * dx[c] = Σ over taps of col[r·pitch + pos] scattered back: the adjoint of im2col.
 * Threads own whole channels.
 */
export function col2im(col: usize, geom: usize, pitch: i32, dx: usize, tid: i32, nt: i32): void {
  const C = g(geom, 0), D = g(geom, 1), H = g(geom, 2), W = g(geom, 3);
  const kD = g(geom, 4), kH = g(geom, 5), kW = g(geom, 6), sD = g(geom, 7), sH = g(geom, 8), sW = g(geom, 9);
  const pD = g(geom, 10), pH = g(geom, 11), pW = g(geom, 12), dD = g(geom, 13), dH = g(geom, 14), dW = g(geom, 15);
  const oD = g(geom, 16), oH = g(geom, 17), oW = g(geom, 18);
  const taps = kD * kH * kW;
  const c0 = share(C, tid, nt, 1), c1 = share(C, tid + 1, nt, 1);
  const xStep = <usize>sW << 2;
  for (let c = c0; c < c1; c++) {
    const xc = at(dx, c * D * H * W);
    memory.fill(xc, 0, <usize>(D * H * W) << 2);
    for (let t = 0; t < taps; t++) {
      const kd = t / (kH * kW), kh = (t / kW) % kH, kw = t % kW;
      const ow0 = validFrom(pW - kw * dW, sW, oW), ow1 = max(ow0, validTo(W - 1 + pW - kw * dW, sW, oW));
      let o = at(col, (c * taps + t) * pitch);
      for (let od = 0; od < oD; od++) {
        const id = od * sD - pD + kd * dD;
        for (let oh = 0; oh < oH; oh++) {
          const ih = oh * sH - pH + kh * dH;
          if (id >= 0 && id < D && ih >= 0 && ih < H) {
            let xi = at(xc, (id * H + ih) * W + ow0 * sW + kw * dW - pW), oi = o + (<usize>ow0 << 2);
            for (let ow = ow0; ow < ow1; ow++) { store<f32>(xi, load<f32>(xi) + load<f32>(oi)); xi += xStep; oi += 4; }
          }
          o += <usize>oW << 2;
        }
      }
    }
  }
}

/**
 * dst[ci, co, t] = w[co, ci, T − 1 − t]: the input gradient's weights, channels swapped and taps reversed.
 * Threads take blocks of 8 ci, so that w is read in runs of 8·T floats rather than T.
 */
export function flipTaps(w: usize, cout: i32, cin: i32, T: i32, dst: usize, tid: i32, nt: i32): void {
  const blocks = (cin + 7) >> 3;
  const b0 = share(blocks, tid, nt, 1), b1 = share(blocks, tid + 1, nt, 1);
  for (let blk = b0; blk < b1; blk++) {
    const ci0 = blk << 3, ci1 = min(cin, ci0 + 8);
    for (let co = 0; co < cout; co++) {
      for (let ci = ci0; ci < ci1; ci++) {
        const s = at(w, (co * cin + ci) * T + T - 1), d = at(dst, (ci * cout + co) * T);
        for (let t = 0; t < T; t++) store<f32>(at(d, t), load<f32>(s - (<usize>t << 2)));
      }
    }
  }
}

/**
 * im2col as a gather: col[(c, t), l] (or, transposed, col[l, (c, t)]) = src[c·chanStride + tapOff[t] + posOff[l]],
 * src a zero-padded input (so no bounds checks), the i32 tables giving each tap's and each output
 * position's offset (positions of the whole batch). Threads take rows, or positions when transposed, so
 * that each writes contiguously.
 */
export function gatherCols(src: usize, chanStride: i32, C: i32, tapOff: usize, taps: i32, posOff: usize, L: i32,
                           col: usize, transposed: i32, tid: i32, nt: i32): void {
  const K = C * taps;
  if (transposed == 0) {
    const r0 = share(K, tid, nt, 1), r1 = share(K, tid + 1, nt, 1);
    for (let r = r0; r < r1; r++) {
      const c = r / taps, t = r - c * taps;
      const s = at(src, c * chanStride + load<i32>(tapOff + (<usize>t << 2)));
      const o = at(col, r * L);
      for (let l = 0; l < L; l++) store<f32>(at(o, l), load<f32>(at(s, load<i32>(posOff + (<usize>l << 2)))));
    }
    return;
  }
  const l0 = share(L, tid, nt, 1), l1 = share(L, tid + 1, nt, 1);
  for (let l = l0; l < l1; l++) {
    let o = at(col, l * K), s = at(src, load<i32>(posOff + (<usize>l << 2)));
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < taps; t++) store<f32>(at(o, t), load<f32>(at(s, load<i32>(tapOff + (<usize>t << 2)))));
      o = at(o, taps);
      s = at(s, chanStride);
    }
  }
}

/**
 * The adjoint of gatherCols: dst[c·chanStride + tapOff[t] + posOff[l]] += col[…], dst zeroed by the
 * host. Threads own whole channels; each adds its terms in one fixed order.
 */
export function scatterCols(col: usize, transposed: i32, C: i32, tapOff: usize, taps: i32, posOff: usize, L: i32,
                            dst: usize, chanStride: i32, tid: i32, nt: i32): void {
  const K = C * taps;
  const c0 = share(C, tid, nt, 1), c1 = share(C, tid + 1, nt, 1);
  for (let c = c0; c < c1; c++) {
    const d = at(dst, c * chanStride);
    if (transposed == 0) {
      for (let t = 0; t < taps; t++) {
        const dt = at(d, load<i32>(tapOff + (<usize>t << 2))), o = at(col, (c * taps + t) * L);
        for (let l = 0; l < L; l++) {
          const p = at(dt, load<i32>(posOff + (<usize>l << 2)));
          store<f32>(p, load<f32>(p) + load<f32>(at(o, l)));
        }
      }
      continue;
    }
    for (let l = 0; l < L; l++) {
      const dl = at(d, load<i32>(posOff + (<usize>l << 2))), o = at(col, l * K + c * taps);
      for (let t = 0; t < taps; t++) {
        const p = at(dl, load<i32>(tapOff + (<usize>t << 2)));
        store<f32>(p, load<f32>(p) + load<f32>(at(o, t)));
      }
    }
  }
}
