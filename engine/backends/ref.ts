// The oracle: every kernel written as plainly as possible, accumulating in double precision.
// With Float64Array storage it doubles as the high-precision engine behind finite-difference checks.
import type { Backend, BackendBuffer, BinaryOp, ConvGeometry, ReduceOp, UnaryOp, View } from '../backend.ts';
import { MemoryMeter } from '../memory-meter.ts';

type Store = Float32Array | Float64Array;
class RefBuffer implements BackendBuffer {
  constructor(readonly data: Store) {}
  get size() { return this.data.length; }
}

const unaryFns: Record<UnaryOp, (x: number, a: number, b: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  // written so that NaN passes, as in PyTorch (x > 0 ? x : 0 would turn it into 0)
  relu: (x) => (x <= 0 ? 0 : x),
  square: (x) => x * x,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  step: (x) => (x > 0 ? 1 : 0),
  pow: (x, a) => x ** a,
  clamp: (x, a, b) => Math.min(Math.max(x, a), b),
  inRange: (x, a, b) => (x >= a && x <= b ? 1 : 0),
  affine: (x, a, b) => a * x + b,
};

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
};

/** Calls fn(flatIndex, offsets…) for every index of shape, tracking one offset per stride set. */
function forEachIndex(shape: number[], strideSets: number[][], bases: number[], fn: (i: number, offs: number[]) => void) {
  const rank = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  const idx = new Array(rank).fill(0);
  const offs = bases.slice();
  for (let i = 0; i < total; i++) {
    fn(i, offs);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let s = 0; s < strideSets.length; s++) offs[s] += strideSets[s][d];
      if (idx[d] < shape[d]) break;
      for (let s = 0; s < strideSets.length; s++) offs[s] -= strideSets[s][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export class RefBackend implements Backend {
  private live = 0;
  private readonly meter = new MemoryMeter();
  constructor(readonly name: string, private readonly Store: Float32ArrayConstructor | Float64ArrayConstructor) {}

  alloc(size: number): RefBuffer {
    this.live++;
    const bytes = size * this.Store.BYTES_PER_ELEMENT;
    this.meter.change(bytes, bytes);
    return new RefBuffer(new this.Store(size));
  }
  free(buf: BackendBuffer) {
    this.live--;
    const bytes = (buf as RefBuffer).data.byteLength;
    this.meter.change(-bytes, -bytes);
  }
  memory() { return this.meter.read(); }
  resetMemoryPeaks() { this.meter.resetPeaks(); }
  write(buf: BackendBuffer, data: Float32Array) { (buf as RefBuffer).data.set(data); }
  async read(buf: BackendBuffer) { return Float32Array.from((buf as RefBuffer).data); }
  /** Full-precision read-out, for the finite-difference checks on the float64 variant. */
  readExact(buf: BackendBuffer): Float64Array { return Float64Array.from((buf as RefBuffer).data); }
  liveBuffers() { return this.live; }

  fill(out: BackendBuffer, value: number) { (out as RefBuffer).data.fill(value); }

  copy(src: BackendBuffer, srcView: View, out: BackendBuffer, outView: View, shape: number[]) {
    const s = (src as RefBuffer).data, o = (out as RefBuffer).data;
    forEachIndex(shape, [srcView.strides, outView.strides], [srcView.offset, outView.offset], (_i, [si, oi]) => {
      o[oi] = s[si];
    });
  }

  unary(op: UnaryOp, x: BackendBuffer, out: BackendBuffer, a: number, b: number) {
    const f = unaryFns[op], xs = (x as RefBuffer).data, o = (out as RefBuffer).data;
    for (let i = 0; i < o.length; i++) o[i] = f(xs[i], a, b);
  }

  binary(op: BinaryOp, a: BackendBuffer, aStrides: number[], b: BackendBuffer, bStrides: number[],
         out: BackendBuffer, outShape: number[]) {
    const f = binaryFns[op], as = (a as RefBuffer).data, bs = (b as RefBuffer).data, o = (out as RefBuffer).data;
    forEachIndex(outShape, [aStrides, bStrides], [0, 0], (i, [ai, bi]) => { o[i] = f(as[ai], bs[bi]); });
  }

  where(cond: BackendBuffer, cStrides: number[], a: BackendBuffer, aStrides: number[], b: BackendBuffer,
        bStrides: number[], out: BackendBuffer, outShape: number[]) {
    const cs = (cond as RefBuffer).data, as = (a as RefBuffer).data, bs = (b as RefBuffer).data;
    const o = (out as RefBuffer).data;
    forEachIndex(outShape, [cStrides, aStrides, bStrides], [0, 0, 0], (i, [ci, ai, bi]) => {
      o[i] = cs[ci] !== 0 ? as[ai] : bs[bi];
    });
  }

  reduce(op: ReduceOp, x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number) {
    const xs = (x as RefBuffer).data, o = (out as RefBuffer).data;
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        let acc = op === 'sum' ? 0 : -Infinity;
        for (let k = 0; k < r; k++) {
          const v = xs[(p * r + k) * inner + q];
          acc = op === 'sum' ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
        }
        o[p * inner + q] = acc;
      }
    }
  }

  argmax(x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number) {
    const xs = (x as RefBuffer).data, o = (out as RefBuffer).data;
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        let best = 0;
        for (let k = 1; k < r; k++) if (xs[(p * r + k) * inner + q] > xs[(p * r + best) * inner + q]) best = k;
        o[p * inner + q] = best;
      }
    }
  }

  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, batch: number, m: number, k: number, n: number,
         transA: boolean, transB: boolean) {
    const as = (a as RefBuffer).data, bs = (b as RefBuffer).data, o = (out as RefBuffer).data;
    for (let t = 0; t < batch; t++) {
      const ao = t * m * k, bo = t * k * n, oo = t * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) {
            acc += as[ao + (transA ? p * m + i : i * k + p)] * bs[bo + (transB ? j * k + p : p * n + j)];
          }
          o[oo + i * n + j] = acc;
        }
      }
    }
  }

  /** Calls fn(flatIndex) for every element of channel ch of x viewed as [n, c, vol]. */
  private forChannel(ch: number, n: number, c: number, vol: number, fn: (i: number) => void) {
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * vol;
      for (let v = 0; v < vol; v++) fn(base + v);
    }
  }

  channelMoments(x: BackendBuffer, stats: BackendBuffer, n: number, c: number, vol: number) {
    const xs = (x as RefBuffer).data, o = (stats as RefBuffer).data;
    for (let ch = 0; ch < c; ch++) {
      let s = 0, ss = 0;
      this.forChannel(ch, n, c, vol, (i) => { s += xs[i]; });
      const mean = s / (n * vol);
      this.forChannel(ch, n, c, vol, (i) => { ss += (xs[i] - mean) ** 2; });
      o[ch] = mean;
      o[c + ch] = ss / (n * vol);
    }
  }

  channelAffine(x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer, residual: BackendBuffer | null,
                out: BackendBuffer, n: number, c: number, vol: number, relu: boolean) {
    const xs = (x as RefBuffer).data, sc = (scale as RefBuffer).data, sh = (shift as RefBuffer).data;
    const rs = residual && (residual as RefBuffer).data, o = (out as RefBuffer).data;
    for (let ch = 0; ch < c; ch++) {
      this.forChannel(ch, n, c, vol, (i) => {
        const z = xs[i] * sc[ch] + sh[ch];
        o[i] = (relu && z <= 0 ? 0 : z) + (rs ? rs[i] : 0);
      });
    }
  }

  channelAffineBackward(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                        sums: BackendBuffer, n: number, c: number, vol: number, relu: boolean) {
    const gs = (gy as RefBuffer).data, xs = (x as RefBuffer).data, sc = (scale as RefBuffer).data;
    const sh = (shift as RefBuffer).data, acc = (sums as RefBuffer).data;
    for (let ch = 0; ch < c; ch++) {
      let sg = 0, sgx = 0;
      this.forChannel(ch, n, c, vol, (i) => {
        const g = relu && !(xs[i] * sc[ch] + sh[ch] > 0) ? 0 : gs[i];
        sg += g;
        sgx += g * xs[i];
      });
      acc[ch] = sg;
      acc[c + ch] = sgx;
    }
  }

  channelAffineBackwardInput(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                             a: BackendBuffer, b: BackendBuffer, gx: BackendBuffer, n: number, c: number, vol: number,
                             relu: boolean) {
    const gs = (gy as RefBuffer).data, xs = (x as RefBuffer).data, sc = (scale as RefBuffer).data;
    const sh = (shift as RefBuffer).data, as = (a as RefBuffer).data, bs = (b as RefBuffer).data;
    const o = (gx as RefBuffer).data;
    for (let ch = 0; ch < c; ch++) {
      this.forChannel(ch, n, c, vol, (i) => {
        const g = relu && !(xs[i] * sc[ch] + sh[ch] > 0) ? 0 : gs[i];
        o[i] = g * sc[ch] + xs[i] * as[ch] + bs[ch];
      });
    }
  }

  /** Visits every (output voxel, kernel tap) pair whose input voxel lies inside x. */
  private taps(g: ConvGeometry, fn: (xi: number, yi: number, wi: number) => void) {
    const [iD, iH, iW] = g.in, [oD, oH, oW] = g.out, [kD, kH, kW] = g.kernel;
    const [sD, sH, sW] = g.stride, [pD, pH, pW] = g.padding, [dD, dH, dW] = g.dilation;
    const inVol = iD * iH * iW, outVol = oD * oH * oW, kVol = kD * kH * kW;
    for (let n = 0; n < g.n; n++)
      for (let co = 0; co < g.cout; co++)
        for (let ci = 0; ci < g.cin; ci++)
          for (let od = 0; od < oD; od++)
            for (let oh = 0; oh < oH; oh++)
              for (let ow = 0; ow < oW; ow++) {
                const yi = (n * g.cout + co) * outVol + (od * oH + oh) * oW + ow;
                for (let kd = 0; kd < kD; kd++) {
                  const id = od * sD - pD + kd * dD;
                  if (id < 0 || id >= iD) continue;
                  for (let kh = 0; kh < kH; kh++) {
                    const ih = oh * sH - pH + kh * dH;
                    if (ih < 0 || ih >= iH) continue;
                    for (let kw = 0; kw < kW; kw++) {
                      const iw = ow * sW - pW + kw * dW;
                      if (iw < 0 || iw >= iW) continue;
                      fn((n * g.cin + ci) * inVol + (id * iH + ih) * iW + iw, yi,
                         (co * g.cin + ci) * kVol + (kd * kH + kh) * kW + kw);
                    }
                  }
                }
              }
  }

  conv3d(x: BackendBuffer, w: BackendBuffer, y: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer) {
    const xs = (x as RefBuffer).data, ws = (w as RefBuffer).data;
    const acc = this.biased(y.size, g.cout, g.out, bias);
    this.taps(g, (xi, yi, wi) => { acc[yi] += xs[xi] * ws[wi]; });
    (y as RefBuffer).data.set(acc);
  }

  conv3dBackwardInput(dy: BackendBuffer, w: BackendBuffer, dx: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer) {
    const dys = (dy as RefBuffer).data, ws = (w as RefBuffer).data;
    const acc = this.biased(dx.size, g.cin, g.in, bias);
    this.taps(g, (xi, yi, wi) => { acc[xi] += dys[yi] * ws[wi]; });
    (dx as RefBuffer).data.set(acc);
  }

  /** Accumulators for an output [N, channels, ...voxels], each starting at its channel's bias (or 0). */
  private biased(size: number, channels: number, voxels: readonly number[], bias?: BackendBuffer): Float64Array {
    const acc = new Float64Array(size);
    if (!bias) return acc;
    const bs = (bias as RefBuffer).data, v = voxels[0] * voxels[1] * voxels[2];
    for (let i = 0; i < size; i++) acc[i] = bs[Math.floor(i / v) % channels];
    return acc;
  }

  conv3dBackwardWeight(x: BackendBuffer, dy: BackendBuffer, dw: BackendBuffer, g: ConvGeometry) {
    const xs = (x as RefBuffer).data, dys = (dy as RefBuffer).data;
    const acc = new Float64Array(dw.size);
    this.taps(g, (xi, yi, wi) => { acc[wi] += xs[xi] * dys[yi]; });
    (dw as RefBuffer).data.set(acc);
  }
}
