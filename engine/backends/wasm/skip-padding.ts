// Convolutions of tiny volumes (the V-Net's deepest level: 2×3×2 at the hippocampus patch, where 65% of
// the dense product multiplies the zero padding). Output positions are grouped by which kernel taps stay
// inside the input; each group sums only over its taps, in the dense product's (channel, tap) order, so
// the sums are the dense product's less the terms that multiply zeros. The groups are exact (a position
// of the 2×3×2 volume is a group to itself), which leaves a group of a batch of two only two columns: the
// product (asm/channel-tiles.ts) is vectorised over the output channels, 16 × 2 columns a tile, and reads
// its columns in place from the zero-padded input. It is used where it saves a quarter of the dense
// product or more.
import type { ConvGeometry } from '../../backend.ts';
import type { Device } from './device.ts';
import { lowering, paddedInput, withTables, type Lowering } from './lowering.ts';

/** Output coordinates along one axis that reach the same kernel taps. */
interface AxisClass { coords: number[]; taps: number[] }
/** Output positions within a sample that reach the same taps (indices into the kernel's taps). */
export interface TapGroup { positions: number[]; taps: number[] }

function axisClasses(g: ConvGeometry, axis: number): AxisClass[] {
  const classes = new Map<string, AxisClass>();
  for (let o = 0; o < g.out[axis]; o++) {
    const taps: number[] = [];
    for (let t = 0; t < g.kernel[axis]; t++) {
      const i = o * g.stride[axis] - g.padding[axis] + t * g.dilation[axis];
      if (i >= 0 && i < g.in[axis]) taps.push(t);
    }
    const key = taps.join(), c = classes.get(key) ?? { coords: [], taps };
    c.coords.push(o);
    classes.set(key, c);
  }
  return [...classes.values()];
}

function toGroup(g: ConvGeometry, [d, h, w]: AxisClass[]): TapGroup {
  const [, oH, oW] = g.out, [, kH, kW] = g.kernel, positions: number[] = [], taps: number[] = [];
  for (const od of d.coords) for (const oh of h.coords) for (const ow of w.coords) positions.push((od * oH + oh) * oW + ow);
  for (const td of d.taps) for (const th of h.taps) for (const tw of w.taps) taps.push((td * kH + th) * kW + tw);
  return { positions, taps };
}

const geometryKey = (g: ConvGeometry) => `${g.n} ${g.cin} ${g.cout} ${g.in} ${g.out} ${g.kernel} ${g.stride} ${g.padding} ${g.dilation}`;
/** Groupings and plans by geometry: a training step meets the same few layers again and again. */
const groupings = new Map<string, TapGroup[] | null>(), plans = new Map<string, Plan>();
const MAX_CACHED = 64;
function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  if (cache.has(key)) return cache.get(key)!;
  if (cache.size >= MAX_CACHED) cache.clear();
  const value = make();
  cache.set(key, value);
  return value;
}

/** The groups of the output positions, or null where they save less than a quarter of the dense product. */
export const tapGroups = (g: ConvGeometry) => cached(groupings, geometryKey(g), () => exactGroups(g));

function exactGroups(g: ConvGeometry): TapGroup[] | null {
  const [cd, ch, cw] = [0, 1, 2].map((axis) => axisClasses(g, axis));
  const groups = cd.flatMap((d) => ch.flatMap((h) => cw.map((w) => toGroup(g, [d, h, w]))));
  // multiply-adds per output and input channel: the tile rounds columns up to pairs and channels up to 16
  const sparse = groups.reduce((sum, q) => sum + Math.ceil((g.n * q.positions.length) / 2) * 2 * q.taps.length, 0) *
                 Math.ceil(g.cout / 16) * 16;
  const dense = g.n * g.out[0] * g.out[1] * g.out[2] * g.kernel[0] * g.kernel[1] * g.kernel[2] * g.cout;
  // groups without taps stay: their columns sum nothing and store the zeros
  return sparse <= 0.75 * dense ? groups : null;
}

/**
 * The tables of the product over the groups: per column (the batch's positions group by group) its
 * window's start in the padded input (bytes) and its output's offset; per group, per (c, t) of its
 * depth, where A's packed row (64·(c·T + t) bytes) and the input value (bytes from a window's start) lie.
 */
interface Plan { start: Uint32Array; cCol: Uint32Array; kOff: Uint32Array; srcOff: Uint32Array; groups: Uint32Array; cRow: Uint32Array }

function plan(g: ConvGeometry, groups: TapGroup[], l: Lowering): Plan {
  const T = l.tapOffsets.length, outVol = l.starts.length / g.n;
  const start: number[] = [], cCol: number[] = [], kOff: number[] = [], srcOff: number[] = [], table: number[] = [];
  for (const q of groups) {
    const n0 = start.length, j0 = kOff.length;
    for (let b = 0; b < g.n; b++) {
      for (const p of q.positions) { start.push(4 * l.starts[b * outVol + p]); cCol.push(b * g.cout * outVol + p); }
    }
    for (let c = 0; c < g.cin; c++) {
      for (const t of q.taps) { kOff.push(64 * (c * T + t)); srcOff.push(4 * (c * l.chan + l.tapOffsets[t])); }
    }
    table.push(n0, start.length - n0, j0, kOff.length - j0);
  }
  return { start: Uint32Array.from(start), cCol: Uint32Array.from(cCol), kOff: Uint32Array.from(kOff), srcOff: Uint32Array.from(srcOff),
           groups: Uint32Array.from(table), cRow: Uint32Array.from({ length: g.cout }, (_, m) => m * outVol) };
}

/** Input channels per chunk of asm/channel-tiles.ts's depth (its CC). */
const CHUNK_CHANNELS = 8;

/**
 * out = conv(src) for the forward-form geometry g over its groups, A[m, (c, t)] = a[m·rowStride + c·cStride +
 * tStart + t·tStep]: the weights, or for an input gradient the forward's weights transposed and flipped.
 */
function skipPadding(dev: Device, src: number, a: number, out: number, g: ConvGeometry, groups: TapGroup[],
                     [rowStride, cStride, tStart, tStep]: number[]) {
  const l = lowering(g), p = cached(plans, geometryKey(g), () => plan(g, groups, l)), T = l.tapOffsets.length;
  const xp = paddedInput(dev, src, g, l), L = p.start.length, slots = dev.pool.parts * (CHUNK_CHANNELS * T + L) * 16, packed = dev.temp(slots);
  withTables(dev, [p.start, p.kOff, p.srcOff, p.groups, p.cRow, p.cCol], ([st, kOff, srcOff, gr, cRow, cCol]) => {
    dev.call('gemmGatherChannels', [g.cout, a, g.cin, T, rowStride, cStride, tStart, tStep, packed, xp, st, kOff, srcOff, gr,
                                    p.groups.length / 4, L, out, cRow, cCol], g.cout * p.kOff.length * 2);
  });
  dev.release(packed);
  if (xp !== src) dev.release(xp);
}

/** y = conv(x) with the weights w as [cout, cin, taps]. */
export function skipPaddingForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry, groups: TapGroup[]) {
  const T = g.kernel[0] * g.kernel[1] * g.kernel[2];
  skipPadding(dev, x, w, y, g, groups, [g.cin * T, T, 0, 1]);
}

/**
 * The input-gradient form of a stride-1 convolution: dx = conv(dy) with w's channels swapped and its
 * kernels flipped, over padding (k − 1)·dilation − p.
 */
export function inputGradientForm(g: ConvGeometry): ConvGeometry {
  const padding = g.kernel.map((k, i) => (k - 1) * g.dilation[i] - g.padding[i]) as ConvGeometry['padding'];
  return { ...g, cin: g.cout, cout: g.cin, in: g.out, out: g.in, padding };
}

/** dx of a stride-1 convolution with weights w [cout, cin, taps], as grouped for inputGradientForm(g), read flipped in place. */
export function skipPaddingBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry, groups: TapGroup[]) {
  const T = g.kernel[0] * g.kernel[1] * g.kernel[2];
  skipPadding(dev, dy, w, dx, inputGradientForm(g), groups, [T, g.cin * T, T - 1, -1]);
}
