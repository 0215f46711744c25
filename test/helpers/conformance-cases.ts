// The conformance suite's cases. Each case names the backends that run it, with the tolerance each runs
// it at (relative, test/helpers/compare.ts; 0: exact): the cases and tolerances that test/wasm.test.ts
// (odd sizes, strides 1/2, padding 0–2, dilation 2, channel counts that are not multiples of 4, batch 1
// and 3) and test/webgpu.test.ts (small shapes: SwiftShader runs ~0.1 GFLOP/s) held before they met here.
import type { BinaryOp, ConvGeometry, UnaryOp } from '../../engine/backend.ts';
import type { ConvCase, ConvTolerances } from './conformance.ts';
import { convGeometry as geometry } from './conv-geometry.ts';

/** Per backend, a tolerance; a backend not named does not run the case. */
export type Tol = Partial<Record<string, number>>;

const WASM = 1e-5, GPU_FWD = 1e-4, GPU_GRAD = 1e-3;

export const fillSizes: { n: number; tol: Tol; roundTrip?: Tol }[] =
  [1, 7, 1000, 70_001].map((n) => ({ n, tol: { wasm: 0, webgpu: 0 }, roundTrip: { webgpu: 0 } }));

/** Strided copies as named views of a [2, 3, 4, 5] source: [what, shape, source view, output view, output size]. */
export type View = { offset: number; strides: number[] };
const cs = [60, 20, 5, 1]; // contiguous strides of [2, 3, 4, 5]
export const copyViews: { what: string; shape: number[]; src: View; out: View; outSize: number; tol: Tol }[] = [
  { what: 'permute', shape: [5, 4, 2, 3], src: { offset: 0, strides: [cs[3], cs[2], cs[0], cs[1]] },
    out: { offset: 0, strides: [24, 6, 3, 1] }, outSize: 120, tol: { webgpu: 0 } },
  { what: 'slice', shape: [2, 2, 2, 3], src: { offset: cs[1] + 2 * cs[3], strides: [cs[0], cs[1], cs[2] * 2, cs[3]] },
    out: { offset: 0, strides: [12, 6, 3, 1] }, outSize: 24, tol: { webgpu: 0 } },
  { what: 'flip', shape: [2, 3, 4, 5], src: { offset: 3 * cs[2] + 4, strides: [cs[0], cs[1], -cs[2], -1] },
    out: { offset: 0, strides: cs }, outSize: 120, tol: { webgpu: 0 } },
  { what: 'repeat', shape: [2, 2, 3, 3, 4, 5], src: { offset: 0, strides: [0, cs[0], 0, cs[1], cs[2], cs[3]] },
    out: { offset: 0, strides: [360, 180, 60, 20, 5, 1] }, outSize: 720, tol: { webgpu: 0 } },
  { what: 'into view', shape: [2, 3, 4, 5], src: { offset: 0, strides: cs },
    out: { offset: 1 * 84 + 7 + 1, strides: [4 * 6 * 7, 6 * 7, 7, 1] }, outSize: 2 * 4 * 6 * 7 + 200, tol: { webgpu: 0 } },
];
/** Random permutations, flips and offsets of 4-D views into strided outputs: trials per backend. */
export const copyTrials: { trials: number; tol: Tol }[] = [{ trials: 12, tol: { wasm: 0 } }];

/**
 * Unary ops on data in [lo, hi] (`trits`: the integers −1, 0, 1) at each size; `zeroFirst`: the first
 * value 0, the edge of step, sign and relu.
 */
export interface UnaryCase { op: UnaryOp; a: number; b: number; lo: number; hi: number; trits?: boolean; sizes: number[];
                             zeroFirst?: boolean; tol: Tol }
const wasmUnary = (op: UnaryOp, a: number, b: number, lo: number, hi: number): UnaryCase =>
  ({ op, a, b, lo, hi, sizes: [3, 101, 40_003], zeroFirst: lo <= 0 && hi >= 0, tol: { wasm: WASM } });
const gpuUnary = (op: UnaryOp, a: number, b: number, lo = -1, hi = 1, trits = false): UnaryCase =>
  ({ op, a, b, lo, hi, trits, sizes: [777], tol: { webgpu: GPU_FWD } });
export const unaryCases: UnaryCase[] = [
  wasmUnary('neg', 0, 0, -3, 3), wasmUnary('exp', 0, 0, -5, 5), wasmUnary('log', 0, 0, 0.01, 10), wasmUnary('sqrt', 0, 0, 0, 10),
  wasmUnary('abs', 0, 0, -3, 3), wasmUnary('tanh', 0, 0, -4, 4), wasmUnary('sigmoid', 0, 0, -8, 8), wasmUnary('relu', 0, 0, -3, 3),
  wasmUnary('square', 0, 0, -3, 3), wasmUnary('sign', 0, 0, -3, 3), wasmUnary('step', 0, 0, -3, 3), wasmUnary('pow', 2.5, 0, 0.1, 3),
  wasmUnary('pow', 3, 0, -2, 2), wasmUnary('clamp', -0.5, 0.7, -2, 2), wasmUnary('inRange', -0.5, 0.7, -2, 2),
  wasmUnary('affine', 1.5, -0.25, -2, 2),
  gpuUnary('neg', 0, 0), gpuUnary('exp', 0, 0, -5, 5), gpuUnary('log', 0, 0, 0.01, 10), gpuUnary('sqrt', 0, 0, 0, 10),
  gpuUnary('abs', 0, 0), gpuUnary('tanh', 0, 0, -20, 20), gpuUnary('sigmoid', 0, 0, -30, 30), gpuUnary('relu', 0, 0),
  gpuUnary('square', 0, 0), gpuUnary('sign', 0, 0, -1, 1, true), gpuUnary('step', 0, 0), gpuUnary('pow', 2.5, 0, 0, 3),
  gpuUnary('pow', 3, 0, -3, 3), gpuUnary('pow', -2, 0, -3, 3), gpuUnary('clamp', -0.3, 0.4), gpuUnary('inRange', -0.3, 0.4),
  gpuUnary('affine', 1.5, -0.25),
];

export const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'];

/**
 * Binary ops over operands broadcast to `out` (shapes aligned on the right). Data: `repeats`, every third
 * value of a equal to one of b (eq/le/ge meaningful); `separated`, integers 0–2 for eq/ne/le/ge, else
 * b in [0.5, 2] (no division by ~0); `plain`, both in [−1, 1].
 */
export interface BinaryCase { a: number[]; b: number[]; out: number[]; ops: BinaryOp[]; data: 'repeats' | 'separated' | 'plain';
                              tol: Tol }
/** [a, b, out] broadcasts of wasm's binary and where cases. */
const broadcasts: [number[], number[], number[]][] = [
  [[3, 5, 7], [3, 5, 7], [3, 5, 7]],
  [[2, 6, 9, 11], [1, 6, 1, 1], [2, 6, 9, 11]],
  [[1, 1, 1], [4, 17, 33], [4, 17, 33]],
  [[5, 1, 13], [1, 9, 1], [5, 9, 13]],
  [[3, 4096], [3, 1], [3, 4096]],
  [[2, 3, 20000], [2, 3, 20000], [2, 3, 20000]],
];
export const binaryCases: BinaryCase[] = [
  ...broadcasts.map(([a, b, out]): BinaryCase => ({ a, b, out, ops: binaryOps, data: 'repeats', tol: { wasm: WASM } })),
  { a: [3, 1, 5, 6], b: [4, 1, 6], out: [3, 4, 5, 6], ops: binaryOps, data: 'separated', tol: { webgpu: GPU_FWD } },
  { a: [], b: [], out: [], ops: ['mul'], data: 'plain', tol: { webgpu: GPU_FWD } },
];

/** where(cond, a, b) with each operand broadcast to `out`; cond holds 0 and 1. */
export const whereCases: { cond: number[]; a: number[]; b: number[]; out: number[]; tol: Tol }[] = [
  ...broadcasts.map(([a, b, out]) => ({ cond: out.map((s, d) => (d % 2 ? s : 1)), a, b, out, tol: { wasm: 0 } })),
  { cond: [1, 3, 4], a: [2, 3, 4], b: [1, 1, 1], out: [2, 3, 4], tol: { webgpu: GPU_FWD } },
];

/**
 * sum and max over r of [outer, r, inner] on data in `range` at `tol`, argmax exactly: on that data where
 * `argmaxOfData`, and on small integers (ties: the first maximum wins).
 */
export interface ReduceCase { shape: [number, number, number]; range: [number, number]; argmaxOfData: boolean; tol: Tol }
export const reduceCases: ReduceCase[] = [
  ...[[1, 5, 1], [3, 1000, 1], [2, 3, 17], [4, 33, 40], [1, 70001, 1], [5, 7, 3001], [2, 40, 16]].map(
    (shape): ReduceCase => ({ shape: shape as ReduceCase['shape'], range: [-1, 1.5], argmaxOfData: false, tol: { wasm: WASM } })),
  // the row kernel, one tree pass, two tree passes
  ...[[3, 10, 2000], [2, 50, 3], [1, 300, 3], [2, 5000, 1], [1, 20_000, 2], [4, 1, 5]].map(
    (shape): ReduceCase => ({ shape: shape as ReduceCase['shape'], range: [-10, 10], argmaxOfData: true, tol: { webgpu: GPU_FWD } })),
];

/** A reduction over data with ±inf and NaN at `specials` ([index, value]): they come through as in ref. */
export const specialReduceCases: { op: 'sum' | 'max'; shape: [number, number, number]; specials: (s: number[]) => [number, number][];
                                   tol: Tol }[] = [
  // max propagates NaN
  ...[[3, 9, 20], [27, 20, 1]].map((shape) => ({ op: 'max' as const, shape: shape as [number, number, number],
                                                 specials: () => [[37, NaN]] as [number, number][], tol: { wasm: WASM } })),
  // sum: +inf in column 0, −inf in column 1, NaN in column 2 (row kernel, two tree passes)
  ...[[2, 50, 3], [1, 20_000, 3]].map((shape) => ({ op: 'sum' as const, shape: shape as [number, number, number],
    specials: ([, , inner]: number[]) => [[5 * inner, Infinity], [7 * inner + 1, -Infinity], [9 * inner + 2, NaN]] as [number, number][],
    tol: { webgpu: GPU_FWD } })),
];

/**
 * webgpu's matmuls that meet vec4 and scalar staging of each operand in each layout (test/webgpu.test.ts
 * checks every variant is met): all multiples of 4 (several tiles), none, and each dimension alone not.
 */
export const matmulVecShapes: [number, number, number, number][] =
  [[3, 68, 36, 132], [1, 13, 17, 9], [3, 8, 13, 12], [1, 9, 16, 12], [3, 12, 20, 7]];
/** [batch, m, k, n], each with every transpose of a and b. */
export const matmulCases: { shape: [number, number, number, number]; tol: Tol }[] = [
  ...[[1, 1, 1, 1], [1, 5, 7, 3], [3, 9, 13, 17], [1, 64, 300, 70], [2, 33, 1, 9]].map((s) => ({ s, tol: { wasm: WASM } })),
  // several tiles
  ...[[2, 5, 7, 9], [1, 70, 33, 130], [3, 17, 40, 20]].map((s) => ({ s, tol: { webgpu: GPU_FWD } })),
  ...matmulVecShapes.map((s) => ({ s, tol: { webgpu: GPU_FWD } })),
].map(({ s, tol }) => ({ shape: s as [number, number, number, number], tol }));

type Triple = [number, number, number];
const t3 = (v: number): Triple => [v, v, v];
const wasmConv: ConvTolerances = { 'forward': WASM, 'input gradient': WASM, 'weight gradient': WASM };
const gpuConv: ConvTolerances = { 'forward': GPU_FWD, 'input gradient': GPU_GRAD, 'weight gradient': GPU_GRAD };
/** webgpu's vec4 cases: the input gradient at the forward tolerance, with bias epilogues and the transposed conv. */
const gpuVecConv: ConvTolerances = { 'forward': GPU_FWD, 'forward + bias': GPU_FWD, 'input gradient': GPU_FWD,
                                     'transposed conv + bias': GPU_FWD, 'weight gradient': GPU_GRAD };
const onWasm = (g: ConvGeometry, what?: string): ConvCase => ({ g, what, tol: { wasm: wasmConv } });
const onGpu = (what: string, g: ConvGeometry, tol = gpuConv): ConvCase => ({ g, what, tol: { webgpu: tol } });

/** wasm's conv cases, in an order test/wasm.test.ts indexes (the skip-padding geometries). */
export const wasmConvCases: ConvCase[] = [
  onWasm(geometry(1, 1, 16, [9, 10, 11], t3(3), t3(1), t3(1), t3(1)), 'first V-Net layer, odd sizes'),
  onWasm(geometry(3, 5, 6, [7, 6, 9], t3(3), t3(1), t3(1), t3(1))),
  onWasm(geometry(1, 3, 5, [9, 8, 7], t3(3), t3(1), t3(2), t3(2)), 'dilation 2, padding 2'),
  onWasm(geometry(3, 6, 3, [8, 9, 10], t3(3), t3(2), t3(1), t3(1)), 'stride 2'),
  onWasm(geometry(1, 4, 7, [8, 6, 10], t3(2), t3(2), t3(0), t3(1)), 'V-Net down-conv'),
  onWasm(geometry(3, 7, 2, [5, 6, 7], t3(1), t3(1), t3(0), t3(1)), '1×1×1 head, 2 classes'),
  onWasm(geometry(1, 3, 5, [7, 8, 9], [3, 1, 2], [1, 2, 1], [0, 1, 2], [2, 1, 1]), 'anisotropic everything'),
  onWasm(geometry(1, 2, 3, [6, 7, 5], t3(3), t3(1), t3(0), t3(1)), 'valid convolution'),
  onWasm(geometry(3, 9, 5, [5, 7, 6], t3(3), [2, 1, 2], t3(2), t3(2))),
  onWasm(geometry(1, 3, 4, [10, 9, 12], t3(3), t3(1), t3(0), t3(1)), 'unpadded input read in place'),
  onWasm(geometry(3, 5, 6, [24, 26, 22], t3(2), t3(2), t3(0), t3(1)), 'a batch of over 2048 outputs: the long-reduction gradients'),
  // rows narrower than 8 outputs: the gather kernels over the padded batch, in both layouts
  onWasm(geometry(3, 13, 11, [2, 3, 2], t3(3), t3(1), t3(1), t3(1)), "the V-Net's deepest level, odd channels"),
  onWasm(geometry(1, 10, 9, [3, 4, 2], t3(3), t3(1), t3(2), t3(1)), 'padding 2'),
  onWasm(geometry(3, 6, 5, [4, 5, 3], t3(3), t3(1), t3(0), t3(1)), 'padding 0: x read in place'),
  onWasm(geometry(1, 9, 7, [5, 9, 7], t3(2), t3(2), t3(0), t3(1)), 'a deep down-conv'),
  onWasm(geometry(3, 5, 3, [40, 30, 6], t3(2), t3(2), t3(0), t3(1)), 'narrow rows, over 2048 outputs'),
  onWasm(geometry(1, 3, 5, [6, 5, 17], t3(2), t3(2), t3(0), t3(1)), 'wide rows, few outputs: transposed im2col/col2im'),
  // taps that never overlap (k·d ≤ s, no padding): the input gradient written in place, odd sizes leaving
  // inputs no tap reads, and an anisotropic kernel, stride and dilation
  onWasm(geometry(3, 5, 64, [5, 7, 6], t3(2), t3(2), t3(0), t3(1))),
  onWasm(geometry(1, 3, 65, [9, 8, 10], [2, 1, 2], [3, 2, 3], t3(0), [2, 1, 1])),
  // overlapping strided taps over more than 2048 outputs: col2im on wide rows, the scatter kernel on narrow ones
  onWasm(geometry(3, 3, 4, [20, 14, 20], t3(3), t3(2), t3(1), t3(1))),
  onWasm(geometry(3, 4, 5, [30, 20, 9], t3(3), t3(2), t3(1), t3(1))),
  // kernel = stride = 2 (packed patch panels): odd sizes that leave a last plane, row and column unread,
  // rows of 2, 3 and 10 outputs (vector, scalar and partial-tile columns), channels 1, 3, 13, batch 1 and 3
  onWasm(geometry(1, 1, 3, [7, 5, 9], t3(2), t3(2), t3(0), t3(1))),
  onWasm(geometry(3, 13, 3, [7, 5, 9], t3(2), t3(2), t3(0), t3(1))),
  onWasm(geometry(3, 3, 13, [5, 7, 21], t3(2), t3(2), t3(0), t3(1))),
  onWasm(geometry(1, 13, 1, [4, 6, 7], t3(2), t3(2), t3(0), t3(1))),
  onWasm(geometry(3, 40, 6, [6, 5, 9], t3(2), t3(2), t3(0), t3(1)), "320 taps, a deep down-conv's depth"),
  // tiny volumes that skip the taps falling in the padding (skip-padding.ts): groups of 2–15 columns,
  // and odd columns per group with output channels over three blocks of 16 and input channels over five chunks
  onWasm(geometry(3, 16, 16, [2, 5, 2], t3(3), t3(1), t3(1), t3(1))),
  onWasm(geometry(3, 37, 35, [2, 3, 2], t3(3), t3(1), t3(1), t3(1))),
  onWasm(geometry(2, 16, 14, [3, 2, 2], t3(3), t3(1), [1, 2, 1], t3(1))),
];

/**
 * Winograd F(2×2×2, 3×3×3), forced where the route choice would not take it: odd sizes (partial tiles),
 * channels that are not multiples of 4, batch 1 and 3, padding 0–2 (input gradient padding 2–0), volumes
 * that the kernels cut into blocks of tile rows (several per sample, the last one short), and channel
 * pairs on either side of the weight gradient's switch from blocks to chunks (32 × 32) and of the
 * forward's switch from fused to staged (128 × 128).
 */
const winogradCases: ConvCase[] = [
  geometry(1, 3, 5, [7, 5, 3], t3(3), t3(1), t3(1), t3(1)),
  geometry(3, 6, 7, [9, 6, 11], t3(3), t3(1), t3(1), t3(1)),
  geometry(3, 5, 2, [9, 6, 11], t3(3), t3(1), t3(0), t3(1)),
  geometry(1, 1, 9, [7, 5, 3], t3(3), t3(1), t3(2), t3(1)),
  geometry(1, 7, 3, [4, 3, 5], t3(3), t3(1), [0, 1, 2], t3(1)),
  geometry(1, 13, 10, [6, 30, 31], t3(3), t3(1), t3(1), t3(1)),
  geometry(3, 31, 33, [5, 9, 7], t3(3), t3(1), t3(1), t3(1)),
  geometry(2, 33, 32, [7, 6, 5], t3(3), t3(1), [1, 2, 0], t3(1)),
  // above 128 × 128 channel pairs: the staged forward (all tiles, then the products point by point)
  geometry(1, 130, 129, [5, 4, 3], t3(3), t3(1), t3(1), t3(1)),
  geometry(3, 129, 131, [3, 5, 6], t3(3), t3(1), [2, 0, 1], t3(1)),
].map((g) => ({ g, force: 'winograd', tol: { wasm: wasmConv } }));

/** webgpu's vec4 cases: channel counts 1/3/4/8/13, batch 1 and 3, volumes of 4k voxels and not. */
export const webgpuVecConvCases: ConvCase[] = [
  onGpu('3³ pad 1, 4→8, 4³, batch 3', geometry(3, 4, 8, [4, 4, 4], t3(3), t3(1), t3(1), t3(1)), gpuVecConv),
  onGpu('3³ pad 1, 3→13, 3×5×3', geometry(1, 3, 13, [3, 5, 3], t3(3), t3(1), t3(1), t3(1)), gpuVecConv),
  onGpu('3³ pad 1, 1→4, 8³, batch 3 (split-K)', geometry(3, 1, 4, [8, 8, 8], t3(3), t3(1), t3(1), t3(1)), gpuVecConv),
  onGpu('1³, 8→4, 4×2×2, batch 3', geometry(3, 8, 4, [4, 2, 2], t3(1), t3(1), t3(0), t3(1)), gpuVecConv),
  onGpu('1³, 13→1, 3³', geometry(1, 13, 1, [3, 3, 3], t3(1), t3(1), t3(0), t3(1)), gpuVecConv),
  onGpu('1³, 1→3, 4×4×3', geometry(1, 1, 3, [4, 4, 3], t3(1), t3(1), t3(0), t3(1)), gpuVecConv),
  onGpu('2³ stride 2, 4→8, 8×4×4, batch 3', geometry(3, 4, 8, [8, 4, 4], t3(2), t3(2), t3(0), t3(1)), gpuVecConv),
  onGpu('2³ stride 2, 3→13, 6×6×2', geometry(1, 3, 13, [6, 6, 2], t3(2), t3(2), t3(0), t3(1)), gpuVecConv),
  onGpu('2³ stride 2 with leftover voxels, 13→4, 7×5×5, batch 3', geometry(3, 13, 4, [7, 5, 5], t3(2), t3(2), t3(0), t3(1)), gpuVecConv),
];

export const convCases: ConvCase[] = [
  ...wasmConvCases,
  ...winogradCases,
  onGpu('3³ pad 1', geometry(2, 3, 4, [5, 6, 7], t3(3), t3(1), t3(1), t3(1))),
  onGpu('2³ stride 2 (V-Net down; input gradient by taps)', geometry(2, 8, 16, [6, 6, 4], t3(2), t3(2), t3(0), t3(1))),
  onGpu('2³ stride 2 with leftover voxels', geometry(1, 3, 5, [7, 6, 5], t3(2), t3(2), t3(0), t3(1))),
  onGpu('dilation 2', geometry(1, 2, 3, [7, 7, 7], t3(3), t3(1), t3(2), t3(2))),
  onGpu('anisotropic', geometry(2, 3, 5, [5, 6, 7], [1, 3, 2], [2, 1, 3], [0, 1, 1], [1, 2, 1])),
  onGpu('wide channels', geometry(1, 17, 70, [4, 4, 4], t3(3), t3(1), t3(1), t3(1))),
  onGpu('split-K weight gradient, tree sum of splits', geometry(2, 2, 4, [16, 16, 16], t3(3), t3(1), t3(1), t3(1))),
  onGpu('split-K weight gradient, row sum of splits', geometry(2, 16, 16, [8, 8, 8], t3(3), t3(1), t3(1), t3(1))),
  ...webgpuVecConvCases,
];

/** [n, c, vol] views of the normalisation primitives: c = 1, 3, 7; n = 1, 3; odd and long volumes (webgpu: 1, 2 and 7 chunks per channel). */
export const channelShapes: { shape: [number, number, number]; on: string[] }[] = [
  ...[[1, 1, 5], [3, 3, 7], [1, 7, 33], [3, 7, 1]].map((s) => ({ s, on: ['wasm', 'webgpu'] })),
  { s: [2, 3, 70001], on: ['wasm'] },
  { s: [2, 3, 3001], on: ['webgpu'] },
  { s: [3, 1, 9001], on: ['webgpu'] },
].map(({ s, on }) => ({ shape: s as [number, number, number], on }));

/** Per backend: channelMoments, channelAffine, and the backward sums and input gradient. */
export const channelTolerances: Partial<Record<string, { moments: number; affine: number; backward: number }>> = {
  wasm: { moments: 1e-6, affine: WASM, backward: WASM },
  webgpu: { moments: GPU_FWD, affine: GPU_FWD, backward: GPU_FWD },
};

