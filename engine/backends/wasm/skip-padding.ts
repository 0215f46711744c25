// Convolutions of tiny volumes (the V-Net's deepest level: 2×3×2 at the hippocampus patch, where 65% of
// the dense product multiplies the zero padding). Output positions are grouped by which kernel taps stay
// inside the input along each axis; each group's columns of the lowered product sum only over those taps
// (gemmGather with column tiles), so the sums are the dense product's, in its order, less the terms that
// multiply zeros. Along an axis whose classes are too small to fill a tile of 8 columns the classes are
// merged (their taps united): the grouping is the cheapest of the 7 ways of merging axes, and is used
// where it saves a quarter of the dense product or more.
import type { ConvGeometry } from '../../backend.ts';
import type { Device } from './device.ts';
import { lowering, paddedInput, withTables } from './lowering.ts';

/** Output coordinates along one axis that reach the same kernel taps. */
interface AxisClass { coords: number[]; taps: number[] }
/** Output positions within a sample that reach the same taps (indices into the kernel's taps). */
export interface TapGroup { positions: number[]; taps: number[] }

const TILE = 8;

function axisClasses(g: ConvGeometry, axis: number, merge: boolean): AxisClass[] {
  const classes = new Map<string, AxisClass>();
  for (let o = 0; o < g.out[axis]; o++) {
    const taps: number[] = [];
    for (let t = 0; t < g.kernel[axis]; t++) {
      const i = o * g.stride[axis] - g.padding[axis] + t * g.dilation[axis];
      if (i >= 0 && i < g.in[axis]) taps.push(t);
    }
    const key = merge ? '' : taps.join();
    const c = classes.get(key) ?? { coords: [], taps: [] };
    c.coords.push(o);
    c.taps = [...new Set([...c.taps, ...taps])].sort((a, b) => a - b);
    classes.set(key, c);
  }
  return [...classes.values()];
}

/** The groups of one way of merging axes (bit i: axis i merged), as triples of per-axis classes. */
function classTriples(g: ConvGeometry, merged: number): AxisClass[][] {
  const [cd, ch, cw] = [0, 1, 2].map((axis) => axisClasses(g, axis, (merged >> axis & 1) === 1));
  return cd.flatMap((d) => ch.flatMap((h) => cw.map((w) => [d, h, w])));
}

/** Tiles × taps: the product's cost in units of one 4×8 tile over one input channel's tap. */
const cost = (triples: AxisClass[][], n: number) =>
  triples.reduce((sum, cls) => sum + Math.ceil((n * cls.reduce((v, c) => v * c.coords.length, 1)) / TILE) *
                                     cls.reduce((v, c) => v * c.taps.length, 1), 0);

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

/** The cheapest grouping of the output positions, or null where it saves less than a quarter of the dense product. */
export const tapGroups = (g: ConvGeometry) => cached(groupings, geometryKey(g), () => cheapestGrouping(g));

function cheapestGrouping(g: ConvGeometry): TapGroup[] | null {
  const dense = cost(classTriples(g, 7), g.n);
  let best: AxisClass[][] | null = null, bestCost = 0.75 * dense;
  for (let merged = 0; merged < 7; merged++) {
    const triples = classTriples(g, merged), c = cost(triples, g.n);
    if (c <= bestCost) { best = triples; bestCost = c; }
  }
  // groups without taps stay: their tiles sum nothing and store the zeros
  return best && best.map((cls) => toGroup(g, cls));
}

/** The tables of one grouped product, with its B rows as float offsets into the im2col matrix. */
interface Plan { L: number; starts: Uint32Array; rowOffsets: Uint32Array; aRow: Uint32Array; aCol: Uint32Array;
                 cRow: Uint32Array; cCol: Uint32Array; tiles: Uint32Array }

function plan(g: ConvGeometry, groups: TapGroup[], aRow: Uint32Array, aCol: (c: number, t: number) => number,
              l: ReturnType<typeof lowering>): Plan {
  const T = l.tapOffsets.length, outVol = l.starts.length / g.n;
  const L = groups.reduce((sum, q) => sum + g.n * q.positions.length, 0);
  const starts: number[] = [], cCol: number[] = [], tiles: number[] = [], rowOffsets: number[] = [], aCols: number[] = [];
  for (const q of groups) {
    const first = starts.length, k0 = rowOffsets.length;
    for (let b = 0; b < g.n; b++) {
      for (const p of q.positions) { starts.push(l.starts[b * outVol + p]); cCol.push(b * g.cout * outVol + p); }
    }
    for (let c = 0; c < g.cin; c++) {
      for (const t of q.taps) { rowOffsets.push((c * T + t) * L); aCols.push(aCol(c, t)); }
    }
    for (let n = first; n < starts.length; n += TILE) tiles.push(n, Math.min(TILE, starts.length - n), k0, rowOffsets.length - k0);
  }
  return { L, starts: Uint32Array.from(starts), rowOffsets: Uint32Array.from(rowOffsets), aRow, aCol: Uint32Array.from(aCols),
           cRow: Uint32Array.from({ length: g.cout }, (_, m) => m * outVol), cCol: Uint32Array.from(cCol), tiles: Uint32Array.from(tiles) };
}

/**
 * out = conv(src) for the forward-form geometry g over the groups: the columns are the batch's output
 * positions group by group, gathered as im2col rows (c, t); A[m, (c, t)] lies at a + aRow[m] + aCol(c, t)
 * floats (the weights, or for an input gradient the forward's weights transposed and flipped).
 */
function skipPadding(dev: Device, src: number, a: number, out: number, g: ConvGeometry, groups: TapGroup[], layout: string,
                     aRow: () => Uint32Array, aCol: (c: number, t: number) => number) {
  const l = lowering(g), p = cached(plans, `${layout} ${geometryKey(g)}`, () => plan(g, groups, aRow(), aCol, l));
  const xp = paddedInput(dev, src, g, l), T = l.tapOffsets.length, colFloats = g.cin * T * p.L + TILE, col = dev.temp(colFloats);
  const rows = new Uint32Array(p.rowOffsets.length);
  for (let i = 0; i < rows.length; i++) rows[i] = col + p.rowOffsets[i] * 4;
  withTables(dev, [l.tapOffsets, p.starts, p.aRow, p.aCol, rows, p.cRow, p.cCol, p.tiles], ([taps, st, aR, aC, r, cR, cC, ti]) => {
    dev.call('gatherCols', [xp, l.chan, g.cin, taps, T, st, p.L, col, 0], g.cin * T * p.L);
    dev.call('gemmGather', [g.cout, 0, 0, a, aR, aC, r, out, cR, cC, ti, p.tiles.length / 4], g.cout * rows.length * TILE);
  });
  dev.release(col, colFloats);
  if (xp !== src) dev.release(xp, g.n * g.cin * l.chan);
}

/** y = conv(x) with the weights w as [cout, cin, taps]. */
export function skipPaddingForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry, groups: TapGroup[]) {
  const T = g.kernel[0] * g.kernel[1] * g.kernel[2];
  skipPadding(dev, x, w, y, g, groups, 'forward', () => Uint32Array.from({ length: g.cout }, (_, m) => m * g.cin * T),
              (c, t) => c * T + t);
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
  skipPadding(dev, dy, w, dx, inputGradientForm(g), groups, 'flipped', () => Uint32Array.from({ length: g.cin }, (_, m) => m * T),
              (co, t) => co * g.cin * T + T - 1 - t);
}
