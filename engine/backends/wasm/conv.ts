// 3D convolution and its two gradients as GEMMs on the kernels of asm/gemm.ts, by the routes below
// (routes.ts picks one per pass).
// Shifted rows (stride 1): the input is zero-padded once; every kernel tap is then the padded volume
// shifted by a constant, so the GEMM's B rows point straight into it and no im2col matrix is built. The
// forward's tiles (gemmFrame) run along the output rows, reading the frame at its pitch and writing
// the outputs in place. Elsewhere (the weight gradient, products of one or two rows) outputs follow
// the frame's pitch (wasted columns, cropped after); on small volumes the W (or H and W) taps are first
// spread into shifted copies, which shrinks the pitch.
// Patches (kernel = stride = 2, the V-Net's down- and up-convs): a GEMM over the disjoint 2×2×2 patches,
// packed a row of outputs (or a chunk of positions) at a time into a panel that stays in cache.
// Lowered (other strides, and where a cost estimate prefers it): an im2col matrix over the whole batch,
// so that one GEMM covers every sample.
// On the deep layers' small volumes it is gathered through tap and position offset tables from the
// zero-padded batch, as per-row bounds checks would cost more than the copying itself.
// Winograd (winograd.ts): stride-1 3×3×3 convolutions with enough channels and tiles, where it is faster.
import type { ConvGeometry } from '../../backend.ts';
import type { Device } from './device.ts';
import { evenOffsets, frames, lowering, paddedDims, paddedInput, unpadded, withTables, type Lowering } from './lowering.ts';

type Triple = [number, number, number];
export const volume = (d: Triple) => d[0] * d[1] * d[2];

/** A stride-1 convolution of m output channels over cin input channels, batch n. */
interface Stride1 {
  n: number; cin: number; m: number;
  in: Triple; out: Triple; kernel: Triple; pad: Triple; dilation: Triple;
}

/**
 * How a stride-1 input is laid out for the shifted-row GEMM. The frame is the zero-padded input,
 * optionally with the W taps (lowerW) or the H and W taps (lowerH too) spread into copies: a copy per
 * such tap, already shifted, cropped to the output's width (and height). The remaining taps are shifts
 * within a copy. Lowering costs copies but removes the wasted columns of the padded pitch.
 */
interface Frame {
  dims: Triple;           // D, H, W of one copy
  vol: number;            // floats per copy
  copies: number;         // copies per channel
  hCopies: number;        // copies along H (kh) …
  wCopies: number;        // … and along W (kw): copy (kh, kw) is x shifted by (kh·dH − pH, kw·dW − pW)
  rowOffsets: number[];   // per tap (kd, kh, kw): float offset from its channel's first copy
  direct: boolean;        // x itself is the frame (one copy, no padding)
  directOut: boolean;     // outputs come out on their own pitch: no crop
  span: number;           // GEMM columns from the first to the last output
  pitchVol: number;       // per-channel floats of an output on the frame's pitch
}

function frame(p: Stride1, lowerH: boolean, lowerW: boolean): Frame {
  const [D, H, W] = p.in, [pD, pH, pW] = p.pad, [oD, oH, oW] = p.out, [kD, kH, kW] = p.kernel, [dD, dH, dW] = p.dilation;
  const dims: Triple = [D + 2 * pD, lowerH ? oH : H + 2 * pH, lowerW ? oW : W + 2 * pW];
  const [, Hf, Wf] = dims, plane = Hf * Wf, vol = dims[0] * plane;
  const hCopies = lowerH ? kH : 1, wCopies = lowerW ? kW : 1;
  const rowOffsets: number[] = [];
  for (let kd = 0; kd < kD; kd++)
    for (let kh = 0; kh < kH; kh++)
      for (let kw = 0; kw < kW; kw++) {
        const copy = (lowerH ? kh : 0) * wCopies + (lowerW ? kw : 0);
        rowOffsets.push(copy * vol + kd * dD * plane + (lowerH ? 0 : kh * dH * Wf) + (lowerW ? 0 : kw * dW));
      }
  return {
    dims, vol, copies: hCopies * wCopies, hCopies, wCopies, rowOffsets,
    direct: hCopies * wCopies === 1 && pD === 0 && pH === 0 && pW === 0,
    directOut: Hf === oH && Wf === oW,
    span: (oD - 1) * plane + (oH - 1) * Wf + oW,
    pitchVol: oD * plane,
  };
}

// Rough machine figures for choosing a route: GEMM multiply-add rate and copy bandwidth.
const GEMM_FLOPS = 40e9, COPY_BYTES = 4e9, IM2COL_BYTES = 1.5e9;
/** Per-sample GEMMs narrower than this (columns) or dot products shorter than this lose to one batched GEMM. */
const NARROW_GEMM = 64, SHORT_DOT = 256;

/** Estimated seconds of one sample's forward GEMM plus its copies, for a frame. */
function frameCost(p: Stride1, f: Frame): number {
  const K = p.cin * f.rowOffsets.length;
  const copied = (f.direct ? 0 : p.cin * f.copies * f.vol) + (f.directOut ? 0 : p.m * volume(p.out));
  return (2 * p.m * K * f.span) / GEMM_FLOPS + (copied * 4) / COPY_BYTES;
}

/** The cheapest frame for a stride-1 plan, with its estimated cost. */
function bestFrame(p: Stride1): { f: Frame; cost: number } {
  let best: { f: Frame; cost: number } | null = null;
  for (const [h, w] of [[false, false], [false, true], [true, true]] as const) {
    const f = frame(p, h, w), cost = frameCost(p, f);
    if (!best || cost < best.cost) best = { f, cost };
  }
  return best!;
}

/** B-row table: row (ci, tap) = channel ci's frame shifted by the tap's offset. */
function shiftedRows(dev: Device, src: number, cin: number, f: Frame): number {
  const taps = f.rowOffsets.length, rows = new Uint32Array(cin * taps), chan = f.copies * f.vol;
  for (let ci = 0; ci < cin; ci++)
    for (let t = 0; t < taps; t++) rows[ci * taps + t] = src + (ci * chan + f.rowOffsets[t]) * 4;
  return dev.table(rows);
}

/** Sample b's frame: x itself when that is the frame, else its copies written into `scratch`. */
function frameSample(dev: Device, x: number, p: Stride1, f: Frame, scratch: number): number {
  if (f.direct) return x;
  const [D, H, W] = p.in, [Df, Hf, Wf] = f.dims, chan = f.copies * f.vol, [pD, pH, pW] = p.pad, [, dH, dW] = p.dilation;
  dev.call('windowCopies', [x, D * H * W, D, H, W, scratch, chan, f.vol, Df, Hf, Wf, -pD, -pH, -pW, f.hCopies, f.wCopies, dH, dW, p.cin],
           p.cin * chan);
  return scratch;
}

const frameFloats = (p: Stride1, f: Frame) => (f.direct ? 0 : p.cin * f.copies * f.vol);

/**
 * y = conv(x) for a stride-1 plan, with the weights as a row-major [m, cin·taps] matrix at a: over the
 * zero-padded input (x itself without padding), whose rows gemmFrame reads at the frame's pitch while
 * writing the outputs in place. With one or two outputs (gemmRows' two-row tiles), on the given frame.
 */
function shiftedProduct(dev: Device, x: number, a: number, y: number, p: Stride1, f: Frame) {
  if (p.m <= 2) return shiftedProductOnFrame(dev, x, a, y, p, f);
  const padded = frame(p, false, false), K = p.cin * padded.rowOffsets.length, inVol = volume(p.in), outVol = volume(p.out);
  const [oD, oH, oW] = p.out, [, Hf, Wf] = padded.dims;
  const xp = padded.direct ? null : frames(dev, x, p.n, p.cin, p.in, padded.dims, p.pad.map((q) => -q) as Triple);
  for (let b = 0; b < p.n; b++) {
    const src = xp ? xp.ptr + b * p.cin * xp.vol * 4 : x + b * p.cin * inVol * 4, rows = shiftedRows(dev, src, p.cin, padded);
    dev.call('gemmFrame', [p.m, oD * oH, oW, K, a, K, rows, y + b * p.m * outVol * 4, outVol, oH, Wf, Hf * Wf], p.m * outVol * K);
    dev.release(rows);
  }
  xp?.release();
}

/** shiftedProduct on the frame f: its GEMM's columns follow the frame's pitch, cropped after where that is wider. */
function shiftedProductOnFrame(dev: Device, x: number, a: number, y: number, p: Stride1, f: Frame) {
  const K = p.cin * f.rowOffsets.length, inVol = volume(p.in), outVol = volume(p.out);
  const xp = f.direct ? 0 : dev.temp(frameFloats(p, f));
  const yp = f.directOut ? 0 : dev.temp(p.m * f.pitchVol);
  const [oD, oH, oW] = p.out, [, Hf, Wf] = f.dims;
  for (let b = 0; b < p.n; b++) {
    const yb = y + b * p.m * outVol * 4;
    const rows = shiftedRows(dev, frameSample(dev, x + b * p.cin * inVol * 4, p, f, xp), p.cin, f);
    dev.call('gemmRows', [p.m, f.span, K, a, K, rows, f.directOut ? yb : yp, f.pitchVol, 0], p.m * f.span * K);
    dev.release(rows);
    if (!f.directOut) dev.call('window3d', [yp, f.pitchVol, oD, Hf, Wf, yb, outVol, oD, oH, oW, 0, 0, 0, p.m], p.m * outVol);
  }
  if (xp) dev.release(xp);
  if (yp) dev.release(yp);
}

export const isStride1 = (g: ConvGeometry) => g.stride.every((s) => s === 1);
const taps = (g: ConvGeometry) => volume(g.kernel);
function stride1Plan(g: ConvGeometry): Stride1 {
  return { n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, kernel: g.kernel, pad: g.padding, dilation: g.dilation };
}

/**
 * The shifted-row frame for a stride-1 convolution, or null where the batch-wide im2col is cheaper:
 * by the cost estimate, or because one sample's GEMM would be narrower than `minSpan` columns (the
 * shifted route runs a GEMM per sample, the lowered one a single GEMM for the batch).
 */
function shiftedFrame(g: ConvGeometry, minSpan: number): Frame | null {
  if (!isStride1(g)) return null;
  const { f, cost } = bestFrame(stride1Plan(g));
  if (f.span < minSpan) return null;
  const K = g.cin * taps(g), outVol = volume(g.out);
  const loweredCost = (2 * g.cout * K * outVol) / GEMM_FLOPS + (K * outVol * 4) / IM2COL_BYTES;
  return cost <= loweredCost ? f : null;
}

/** The forward's (and input gradient's) shifted-row frame, or null. */
export const forwardFrame = (g: ConvGeometry) => shiftedFrame(g, NARROW_GEMM);
/** The weight gradient's shifted-row frame, or null. */
export const weightGradFrame = (g: ConvGeometry) => shiftedFrame(g, SHORT_DOT);

/** y = conv(x) on the forward's shifted-row frame. */
export function shiftedForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  shiftedProduct(dev, x, w, y, stride1Plan(g), forwardFrame(g)!);
}

/** A u32 table of `count` row addresses `pitch` floats apart from base. */
function evenRows(dev: Device, base: number, count: number, pitch: number): number {
  const rows = new Uint32Array(count);
  for (let i = 0; i < count; i++) rows[i] = base + i * pitch * 4;
  return dev.table(rows);
}

/** Offsets (floats) of row (c, t) of the im2col matrix: channel c's start plus tap t's offset. */
function rowOffsets(l: Lowering, channels: number, chan: number): Uint32Array {
  const T = l.tapOffsets.length, out = new Uint32Array(channels * T);
  for (let c = 0; c < channels; c++) for (let t = 0; t < T; t++) out[c * T + t] = c * chan + l.tapOffsets[t];
  return out;
}

/** Offsets (floats) of output position l of the batch in a [n, c, outVol] tensor: the sample's start plus the position. */
function positionOffsets(g: ConvGeometry, channels: number): Uint32Array {
  const outVol = volume(g.out), out = new Uint32Array(g.n * outVol);
  for (let b = 0, i = 0; b < g.n; b++) for (let p = 0; p < outVol; p++, i++) out[i] = b * channels * outVol + p;
  return out;
}

/**
 * y = conv(x) as one product over the batch's output positions: A is the padded input read through
 * the lowering's offsets, B the transposed weights, C is y written in place. It saves the im2col
 * matrix and y's transpose at the cost of transposing w: worth it where positions outnumber outputs.
 */
export function gatheredForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  const l = lowering(g), src = paddedInput(dev, x, g, l), K = g.cin * l.tapOffsets.length, L = l.starts.length;
  const wT = dev.transposed(w, g.cout, K), rows = evenRows(dev, wT, K, g.cout);
  withTables(dev, [l.starts, rowOffsets(l, g.cin, l.chan), positionOffsets(g, g.cout), evenOffsets(g.cout, volume(g.out))],
    ([aRow, aCol, cRow, cCol]) => dev.call('gemmGather', [L, g.cout, K, src, aRow, aCol, rows, y, cRow, cCol], L * g.cout * K));
  dev.release(rows);
  dev.release(wT);
  if (src !== x) dev.release(src);
}

/** Whether every input element is read by at most one tap of one output position (k ≤ s, no padding). */
export const disjointTaps = (g: ConvGeometry) =>
  unpadded(g) && g.kernel.every((k, i) => (k - 1) * g.dilation[i] < g.stride[i]);

/**
 * dx for disjoint taps: dx[b, c, start(l) + tap t] = Σ_co dy[b, co, l]·w[co, c, t], each dx element
 * getting at most one term, so the product writes dx in place (rows of w as B, dy read in place as A).
 */
export function gatheredBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  const l = lowering(g), K = g.cin * l.tapOffsets.length, L = l.starts.length, outVol = volume(g.out), inVol = volume(g.in);
  const covered = g.out.every((o, i) => o * g.stride[i] === g.in[i] && g.kernel[i] * g.dilation[i] === g.stride[i]);
  if (!covered) dev.call('fill', [dx, g.n * g.cin * inVol, 0], g.n * g.cin * inVol);
  const rows = evenRows(dev, w, g.cout, K);
  withTables(dev, [positionOffsets(g, g.cout), evenOffsets(g.cout, outVol), l.starts, rowOffsets(l, g.cin, inVol)],
    ([aRow, aCol, cRow, cCol]) => dev.call('gemmGather', [L, K, g.cout, dy, aRow, aCol, rows, dx, cRow, cCol], L * K * g.cout));
  dev.release(rows);
}

function geometryDescriptor(dev: Device, g: ConvGeometry): number {
  return dev.describe([g.cin, ...g.in, ...g.kernel, ...g.stride, ...g.padding, ...g.dilation, ...g.out]);
}

/**
 * Output rows at least this wide go through im2col/col2im, which copy whole rows with vectors (and
 * deinterleave stride 2); narrower ones through the gather kernels, whose cost does not depend on
 * the rows' length.
 */
const VECTOR_ROWS = 8;

/** col as [K, L] (or transposed [L, K]) for the batch x. */
function gatherColumns(dev: Device, x: number, g: ConvGeometry, col: number, transposed: boolean) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in), L = g.n * outVol;
  if (!transposed && g.out[2] >= VECTOR_ROWS) {
    for (let b = 0; b < g.n; b++) {
      dev.call('im2col', [x + b * g.cin * inVol * 4, geometryDescriptor(dev, g), col + b * outVol * 4, L], K * outVol);
    }
    return;
  }
  const l = lowering(g), src = paddedInput(dev, x, g, l), T = l.tapOffsets.length;
  withTables(dev, [l.tapOffsets, l.starts], ([taps, starts]) =>
    dev.call('gatherCols', [src, l.chan, g.cin, taps, T, starts, L, col, +transposed], K * L));
  if (src !== x) dev.release(src);
}

/** dx = the adjoint of gatherColumns applied to col. */
function scatterColumns(dev: Device, col: number, transposed: boolean, g: ConvGeometry, dx: number) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in), L = g.n * outVol;
  if (!transposed && g.out[2] >= VECTOR_ROWS) {
    for (let b = 0; b < g.n; b++) {
      dev.call('col2im', [col + b * outVol * 4, geometryDescriptor(dev, g), L, dx + b * g.cin * inVol * 4], K * outVol);
    }
    return;
  }
  const l = lowering(g), channels = g.n * g.cin, padded = !unpadded(g), T = l.tapOffsets.length;
  const dst = padded ? dev.temp(channels * l.chan) : dx;
  dev.call('fill', [dst, channels * l.chan, 0], channels * l.chan);
  withTables(dev, [l.tapOffsets, l.starts], ([taps, starts]) =>
    dev.call('scatterCols', [col, +transposed, g.cin, taps, T, starts, L, dst, l.chan], K * L));
  if (padded) {
    const [D, H, W] = g.in, [Dp, Hp, Wp] = paddedDims(g), [pD, pH, pW] = g.padding;
    dev.call('window3d', [dst, l.chan, Dp, Hp, Wp, dx, inVol, D, H, W, pD, pH, pW, channels], channels * inVol);
    dev.release(dst);
  }
}

/** [n, c, vol] ↔ [c, n, vol]: batch-major tensors to the channel-major layout of the lowered GEMMs. */
function swapBatchAndChannels(dev: Device, src: number, dst: number, n: number, c: number, vol: number, toChannelMajor: boolean) {
  const batchMajor = [vol, c * vol, 1], channelMajor = [n * vol, vol, 1]; // strides over [c, n, vol]
  const [from, to] = toChannelMajor ? [batchMajor, channelMajor] : [channelMajor, batchMajor];
  const desc = dev.describe([3, c, n, vol, n * vol, vol, 1, ...from, ...to]);
  dev.call('copy', [src, 0, dst, 0, n * c * vol, desc, dev.scratch], n * c * vol);
}

/** dy as [cout, n·outVol]; the caller releases it when it is not dy itself (n > 1). */
function channelMajor(dev: Device, t: number, g: ConvGeometry, c: number, vol: number): number {
  if (g.n === 1) return t;
  const out = dev.temp(g.n * c * vol);
  swapBatchAndChannels(dev, t, out, g.n, c, vol, true);
  return out;
}

/** Kernel = stride = 2, no padding or dilation: disjoint 2×2×2 patches that tile x (but for a last odd row or plane). */
export const patches2 = (g: ConvGeometry) =>
  g.kernel.every((k) => k === 2) && g.stride.every((s) => s === 2) && g.dilation.every((d) => d === 1) && unpadded(g);

/**
 * Floats of a forward panel: whole rows of one plane up to this, so that each channel's rows of x are
 * read in long runs (faster than blocks of 32 positions), while the panel stays in L2 (128 KiB: with
 * written inputs, within noise of 256 KiB).
 */
const PATCH_PANEL = 1 << 15;

/**
 * y = conv(x) over 2×2×2 patches (asm/gemm.ts patchConv), w packed in blocks of 4 rows: each part packs
 * blocks of rows of patches into its own panel.
 */
export function patchForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  const [, oH, oW] = g.out, K = g.cin * 8, rows = Math.max(1, Math.min(oH, Math.floor(PATCH_PANEL / (K * oW))));
  const panel = K * Math.ceil((rows * oW) / 8) * 8, slots = dev.pool.parts;
  const p = dev.temp(slots * panel);
  const packed = Math.ceil(g.cout / 4) * 4 * K, wp = dev.temp(packed);
  dev.call('packRows4', [w, g.cout, K, wp], packed);
  dev.call('patchConv', [x, wp, y, g.n, g.cin, g.cout, ...g.in, ...g.out, rows, p], g.n * volume(g.out) * g.cout * K);
  dev.release(wp);
  dev.release(p);
}

/** dx for 2×2×2 patches (asm/gemm.ts patchConvInput), with w transposed to [cin·8, cout] and a dy panel slot per part. */
export function patchBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  const K = g.cin * 8, inVol = volume(g.in);
  if (!g.out.every((o, i) => 2 * o === g.in[i])) dev.call('fill', [dx, g.n * g.cin * inVol, 0], g.n * g.cin * inVol);
  const wT = dev.transposed(w, g.cout, K), panel = g.cout * Math.ceil(g.out[2] / 8) * 8;
  const slots = dev.pool.parts, p = dev.temp(slots * panel);
  const wp = dev.temp(K * g.cout);
  dev.call('packRows4', [wT, K, g.cout, wp], K * g.cout);
  dev.call('patchConvInput', [dy, wp, dx, g.n, g.cin, g.cout, ...g.in, ...g.out, p], g.n * volume(g.out) * g.cout * K);
  dev.release(wp);
  dev.release(p);
  dev.release(wT);
}

/** Output positions per chunk of the patch weight gradient: a panel of 32 KiB, in cache while every tile of 4 outputs reads it. */
const PATCH_CHUNK = 1024;
/** Most floats of per-chunk weight-gradient sums (one dw per chunk). */
const PATCH_PARTIALS = 1 << 22;
/** Chunks shorter than this spend more on their sums (one dw each) than dy's packing saves (128→256 at 2×3×2 outputs). */
const SHORT_PATCH_CHUNK = 64;

/**
 * dw for 2×2×2 patches. Parts take chunks of positions (asm/gemm.ts patchConvWeightChunks: dy packed once
 * per chunk, the chunks' sums then added in order by sumChunks) where there is a chunk for at least every
 * other part and chunks are long enough, else input channels (patchConvWeight, the deep layers' few
 * positions). Both give the same bits.
 */
export function patchBackwardWeight(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const K = g.cin * 8, oW = g.out[2], chunkRows = Math.max(1, Math.floor(PATCH_CHUNK / oW)), slots = dev.pool.parts;
  const chunks = g.n * Math.ceil((g.out[0] * g.out[1]) / chunkRows), partials = chunks * g.cout * K;
  const work = g.n * volume(g.out) * g.cout * K;
  dev.call('fill', [dw, g.cout * K, 0], g.cout * K);
  if (2 * chunks >= slots && Math.min(chunkRows * oW, volume(g.out)) >= SHORT_PATCH_CHUNK && partials <= PATCH_PARTIALS) {
    const slot = (Math.ceil(g.cout / 4) * 4 + 8) * chunkRows * oW, p = dev.temp(slots * slot), sums = dev.temp(partials);
    dev.call('patchConvWeightChunks', [x, dy, sums, g.n, g.cin, g.cout, ...g.in, ...g.out, chunkRows, p], work);
    dev.call('sumChunks', [g.cout, K, chunks, sums, dw, K], partials);
    dev.release(sums);
    dev.release(p);
    return;
  }
  const panel = chunkRows * oW * 8, p = dev.temp(slots * panel);
  dev.call('patchConvWeight', [x, dy, dw, g.n, g.cin, g.cout, ...g.in, ...g.out, chunkRows, p], work);
  dev.release(p);
}

/** y = conv(x) as one GEMM over the batch's im2col matrix. */
export function im2colForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), L = g.n * outVol;
  const col = dev.temp(K * L);
  gatherColumns(dev, x, g, col, false);
  const rows = evenRows(dev, col, K, L), ym = g.n === 1 ? y : dev.temp(g.cout * L);
  dev.call('gemmRows', [g.cout, L, K, w, K, rows, ym, L, 0], g.cout * L * K);
  if (ym !== y) {
    swapBatchAndChannels(dev, ym, y, g.n, g.cout, outVol, false);
    dev.release(ym);
  }
  dev.release(rows);
  dev.release(col);
}

/** dx from colT[(b, pos), (ci, t)] = Σ_co dy[b, co, pos]·w[co, ci, t] (w's rows serve as B as they are), scattered back. */
export function transposedIm2colBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  const K = g.cin * taps(g), L = g.n * volume(g.out);
  const dyT = positionMajor(dev, dy, g);
  const rows = evenRows(dev, w, g.cout, K), colT = dev.temp(L * K);
  dev.call('gemmRows', [L, K, g.cout, dyT, g.cout, rows, colT, K, 0], L * K * g.cout);
  scatterColumns(dev, colT, true, g, dx);
  dev.release(colT);
  dev.release(rows);
  dev.release(dyT);
}

/** dx from col[(ci, t), (b, pos)] = Σ_co w[co, ci, t]·dy[b, co, pos], scattered back. */
export function im2colBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), L = g.n * outVol;
  const wT = dev.transposed(w, g.cout, K);
  const dym = channelMajor(dev, dy, g, g.cout, outVol);
  const rows = evenRows(dev, dym, g.cout, L), col = dev.temp(K * L);
  dev.call('gemmRows', [K, L, g.cout, wT, g.cout, rows, col, L, 0], K * L * g.cout);
  scatterColumns(dev, col, false, g, dx);
  dev.release(col);
  dev.release(rows);
  if (dym !== dy) dev.release(dym);
  dev.release(wT);
}

/** dy [n, cout, outVol] as [(b, pos), cout]; the caller releases it. */
function positionMajor(dev: Device, dy: number, g: ConvGeometry): number {
  const outVol = volume(g.out), L = g.n * outVol, dyT = dev.temp(L * g.cout);
  const desc = dev.describe([3, g.n, outVol, g.cout, outVol * g.cout, g.cout, 1, g.cout * outVol, 1, outVol, outVol * g.cout, g.cout, 1]);
  dev.call('copy', [dy, 0, dyT, 0, L * g.cout, desc, dev.scratch], L * g.cout);
  return dyT;
}

/**
 * Short reductions: dw[co, (c, t)] = Σ_l x[start(l) + offset(c, t)]·dy[co, l] as one product with the
 * padded input read in place through the lowering's offsets and dw written as its transpose.
 */
export function gatheredWeightGrad(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const l = lowering(g), src = paddedInput(dev, x, g, l), K = g.cin * l.tapOffsets.length, L = l.starts.length;
  const dyT = positionMajor(dev, dy, g), rows = evenRows(dev, dyT, L, g.cout);
  withTables(dev, [rowOffsets(l, g.cin, l.chan), l.starts, evenOffsets(K, 1), evenOffsets(g.cout, K)],
    ([aRow, aCol, cRow, cCol]) => dev.call('gemmGather', [K, g.cout, L, src, aRow, aCol, rows, dw, cRow, cCol], K * g.cout * L));
  dev.release(rows);
  dev.release(dyT);
  if (src !== x) dev.release(src);
}

/** Long reductions: dw[co, k] = Σ_l dy[co, l]·col[k, l], dot products along them. */
export function im2colWeightGrad(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), L = g.n * outVol;
  const col = dev.temp(K * L);
  gatherColumns(dev, x, g, col, false);
  const dym = channelMajor(dev, dy, g, g.cout, outVol), rows = evenRows(dev, col, K, L);
  dev.call('fill', [dw, g.cout * K, 0], g.cout * K);
  dotProducts(dev, g.cout, K, evenChunks(L), dym, L, rows, dw, K);
  if (dym !== dy) dev.release(dym);
  dev.release(rows);
  dev.release(col);
}

/** Short reductions: dw[co, k] = Σ_l dy[co, l]·colT[l, k], the transposed im2col (gathered) giving B rows along k. */
export function transposedIm2colWeightGrad(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), L = g.n * outVol;
  const colT = dev.temp(L * K);
  gatherColumns(dev, x, g, colT, true);
  const dym = channelMajor(dev, dy, g, g.cout, outVol);
  const rows = evenRows(dev, colT, L, K);
  dev.call('gemmRows', [g.cout, K, L, dym, L, rows, dw, K, 0], g.cout * K * L);
  if (dym !== dy) dev.release(dym);
  dev.release(rows);
  dev.release(colT);
}

/** Positions per chunk of gemmDot's sums: their order depends on it, not on the thread count. */
const DOT_CHUNK = 1024;
/** Most floats of chunk sums that gemmDot may keep to cut its work by chunks. */
const DOT_PARTIALS = 1 << 22;

/** gemmDot's chunks (aOff, bOff, len) over L positions laid out alike in A and B. */
function evenChunks(L: number): Uint32Array {
  const count = Math.ceil(L / DOT_CHUNK), t = new Uint32Array(3 * count);
  for (let k = 0; k < count; k++) t.set([k * DOT_CHUNK, k * DOT_CHUNK, Math.min(DOT_CHUNK, L - k * DOT_CHUNK)], 3 * k);
  return t;
}

/**
 * gemmDot's chunks over the outputs [oD, oH, oW] of A against a frame of Hf ≥ oH rows of oW a plane:
 * whole rows up to DOT_CHUNK positions, so that B skips the frame rows past the outputs.
 */
function planeChunks(out: Triple, Hf: number): Uint32Array {
  const [oD, oH, oW] = out, R = Math.max(1, Math.floor(DOT_CHUNK / oW)), groups = Math.ceil(oH / R);
  const t = new Uint32Array(3 * oD * groups);
  for (let od = 0, k = 0; od < oD; od++) {
    for (let oh = 0; oh < oH; oh += R, k++) t.set([(od * oH + oh) * oW, (od * Hf + oh) * oW, Math.min(R, oH - oh) * oW], 3 * k);
  }
  return t;
}

/**
 * C[m, j] += Σ_l A[m·lda + l]·B_j[l] over the chunks (asm/gemm.ts gemmDot). Cut by tiles of C, each part
 * reads its rows of A and B whole; a long reduction over few tiles (the input conv's weight gradient:
 * 16 × 27 outputs, 50k positions a sample) is instead cut by chunks, whose sums are then added in
 * chunk order. Both give the same bits, so the choice may follow the thread count.
 */
function dotProducts(dev: Device, M: number, J: number, chunks: Uint32Array, a: number, lda: number, rows: number, c: number, ldc: number) {
  const count = chunks.length / 3, floats = count * M * J, work = M * J * chunks.reduce((s, v, i) => (i % 3 === 2 ? s + v : s), 0);
  const byChunks = dev.pool.parts > 1 && count >= dev.pool.parts && floats <= DOT_PARTIALS;
  const partials = byChunks ? dev.temp(floats) : 0;
  withTables(dev, [chunks], ([table]) => dev.call('gemmDot', [M, J, a, lda, rows, c, ldc, count, table, partials], work));
  if (!partials) return;
  dev.call('sumChunks', [M, J, count, partials, c, ldc], floats);
  dev.release(partials);
}

/** dx on the shifted-row frame: the full correlation of dy with the flipped kernel, channels swapped. */
export function shiftedBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  // A[ci, (co, t)] = w[co, ci, T−1−t]
  const T = taps(g), K = g.cin * T;
  const wt = dev.temp(g.cout * K);
  dev.call('flipTaps', [w, g.cout, g.cin, T, wt], g.cout * K);
  const pad = g.kernel.map((k, i) => (k - 1) * g.dilation[i] - g.padding[i]) as Triple;
  const p: Stride1 = { n: g.n, cin: g.cout, m: g.cin, in: g.out, out: g.in, kernel: g.kernel, pad, dilation: g.dilation };
  shiftedProduct(dev, dy, wt, dx, p, bestFrame(p).f);
  dev.release(wt);
}

/** dw on the weight gradient's shifted-row frame: dot products of dy with the frame's shifted rows. */
export function shiftedWeightGrad(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const shifted = weightGradFrame(g)!;
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in), p = stride1Plan(g);
  // the W taps' copies, read by chunks that skip the pitch's rows past the outputs, take dy in place:
  // where they copy less than the forward's frame (with dy on its pitch), they serve instead
  const wOnly = frame(p, false, true);
  const byRows = frameFloats(p, wOnly) < frameFloats(p, shifted) + (shifted.directOut ? 0 : g.cout * shifted.pitchVol);
  const f = byRows ? wOnly : shifted;
  dev.call('fill', [dw, g.cout * K, 0], g.cout * K);
  const [oD, oH, oW] = g.out, [, Hf, Wf] = f.dims;
  const xp = f.direct ? 0 : dev.temp(frameFloats(p, f));
  const dyp = f.directOut || byRows ? 0 : dev.temp(g.cout * f.pitchVol);
  const chunks = byRows ? planeChunks(g.out, Hf) : evenChunks(f.span);
  for (let b = 0; b < g.n; b++) {
    const rows = shiftedRows(dev, frameSample(dev, x + b * g.cin * inVol * 4, p, f, xp), g.cin, f);
    let a = dy + b * g.cout * outVol * 4;
    if (dyp) {
      // dy on the frame's pitch, zeros in the columns that are not outputs
      dev.call('window3d', [a, outVol, oD, oH, oW, dyp, f.pitchVol, oD, Hf, Wf, 0, 0, 0, g.cout], g.cout * f.pitchVol);
      a = dyp;
    }
    dotProducts(dev, g.cout, K, chunks, a, byRows ? outVol : f.pitchVol, rows, dw, K);
    dev.release(rows);
  }
  if (xp) dev.release(xp);
  if (dyp) dev.release(dyp);
}
