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
  const x0 = min(dW, max(0, -ox)), x1 = max(x0, min(dW, sW - ox));
  for (let r = r0; r < r1; r++) {
    const c = r / (dD * dH), zy = r - c * dD * dH, z = zy / dH, y = zy - z * dH;
    const d = at(dst, c * dstCS + (z * dH + y) * dW);
    const sz = z + oz, sy = y + oy;
    if (sz < 0 || sz >= sD || sy < 0 || sy >= sH) {
      memory.fill(d, 0, <usize>dW << 2);
      continue;
    }
    const s = at(src, c * srcCS + (sz * sH + sy) * sW + ox);
    if (x0 > 0) memory.fill(d, 0, <usize>x0 << 2);
    let x = x0;
    for (; x + 4 <= x1; x += 4) v128.store(at(d, x), v128.load(at(s, x)));
    for (; x < x1; x++) store<f32>(at(d, x), load<f32>(at(s, x)));
    if (x1 < dW) memory.fill(at(d, x1), 0, <usize>(dW - x1) << 2);
  }
}

@inline function g(geom: usize, i: i32): i32 { return load<i32>(geom + (<usize>i << 2)); }

/** col[(c, kd, kh, kw), od, oh, ow] = x[c, od·s − p + kd·d, …] or 0 in the padding. Threads take rows. */
export function im2col(x: usize, geom: usize, col: usize, tid: i32, nt: i32): void {
  const C = g(geom, 0), D = g(geom, 1), H = g(geom, 2), W = g(geom, 3);
  const kD = g(geom, 4), kH = g(geom, 5), kW = g(geom, 6), sD = g(geom, 7), sH = g(geom, 8), sW = g(geom, 9);
  const pD = g(geom, 10), pH = g(geom, 11), pW = g(geom, 12), dD = g(geom, 13), dH = g(geom, 14), dW = g(geom, 15);
  const oD = g(geom, 16), oH = g(geom, 17), oW = g(geom, 18);
  const taps = kD * kH * kW, outVol = oD * oH * oW;
  const r0 = share(C * taps, tid, nt, 1), r1 = share(C * taps, tid + 1, nt, 1);
  for (let r = r0; r < r1; r++) {
    const c = r / taps, t = r - c * taps, kd = t / (kH * kW), kh = (t / kW) % kH, kw = t % kW;
    let o = at(col, r * outVol);
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
        const xr = at(xc, (id * H + ih) * W);
        for (let ow = 0; ow < oW; ow++) {
          const iw = ow * sW - pW + kw * dW;
          store<f32>(o, iw >= 0 && iw < W ? load<f32>(at(xr, iw)) : 0);
          o += 4;
        }
      }
    }
  }
}

/** dx[c] = Σ over taps of col rows scattered back (the adjoint of im2col). Threads own whole channels. */
export function col2im(col: usize, geom: usize, dx: usize, tid: i32, nt: i32): void {
  const C = g(geom, 0), D = g(geom, 1), H = g(geom, 2), W = g(geom, 3);
  const kD = g(geom, 4), kH = g(geom, 5), kW = g(geom, 6), sD = g(geom, 7), sH = g(geom, 8), sW = g(geom, 9);
  const pD = g(geom, 10), pH = g(geom, 11), pW = g(geom, 12), dD = g(geom, 13), dH = g(geom, 14), dW = g(geom, 15);
  const oD = g(geom, 16), oH = g(geom, 17), oW = g(geom, 18);
  const taps = kD * kH * kW, outVol = oD * oH * oW;
  const c0 = share(C, tid, nt, 1), c1 = share(C, tid + 1, nt, 1);
  for (let c = c0; c < c1; c++) {
    const xc = at(dx, c * D * H * W);
    memory.fill(xc, 0, <usize>(D * H * W) << 2);
    for (let t = 0; t < taps; t++) {
      const kd = t / (kH * kW), kh = (t / kW) % kH, kw = t % kW;
      let o = at(col, (c * taps + t) * outVol);
      for (let od = 0; od < oD; od++) {
        const id = od * sD - pD + kd * dD;
        for (let oh = 0; oh < oH; oh++) {
          const ih = oh * sH - pH + kh * dH;
          if (id < 0 || id >= D || ih < 0 || ih >= H) { o += <usize>oW << 2; continue; }
          const xr = at(xc, (id * H + ih) * W);
          for (let ow = 0; ow < oW; ow++) {
            const iw = ow * sW - pW + kw * dW;
            if (iw >= 0 && iw < W) store<f32>(at(xr, iw), load<f32>(at(xr, iw)) + load<f32>(o));
            o += 4;
          }
        }
      }
    }
  }
}
