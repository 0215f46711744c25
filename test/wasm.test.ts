// Every primitive of the wasm backend against the ref backend on awkward shapes (odd sizes, strides
// 1/2, padding 0–2, dilation 2, channel counts that are not multiples of 4, batch 1 and 3), plus the
// heap allocator and thread-count determinism.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import type { BackendBuffer, BinaryOp, ConvGeometry, UnaryOp } from '../engine/backend.ts';
import { RefBackend } from '../engine/backends/ref.ts';
import type { WasmBackend } from '../engine/backends/wasm/backend.ts';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward, convRouteNames, type ConvPass } from '../engine/backends/wasm/routes.ts';
import { compileKernels, instantiate, kernelNames, kernelParams } from '../engine/backends/wasm/kernels.ts';
import { inputGradientForm, tapGroups } from '../engine/backends/wasm/skip-padding.ts';
import { winogradWeightGrad } from '../engine/backends/wasm/winograd.ts';
import { assertClose } from './helpers/compare.ts';
import { convGeometry } from './helpers/conv-geometry.ts';

const TOL = 1e-5;
const ref = new RefBackend('ref', Float32Array);
let wasm: WasmBackend;

let seed = 12345;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const randomData = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];

/** The same data on both backends. */
function pair(data: Float32Array): [BackendBuffer, BackendBuffer] {
  const a = ref.alloc(data.length), b = wasm.alloc(data.length);
  ref.write(a, data);
  wasm.write(b, data);
  return [a, b];
}

async function same(r: BackendBuffer, w: BackendBuffer, what: string, tol = TOL) {
  assertClose(await wasm.read(w), await ref.read(r), tol, what);
  ref.free(r);
  wasm.free(w);
}

const contiguous = (shape: number[]) => {
  const s: number[] = [];
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
};
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

test.before(async () => {
  await vg.setBackend('wasm');
  wasm = vg.getBackend() as WasmBackend;
  assert.is(wasm.name, 'wasm');
});

test('the kernel table lists every function the module exports, with its parameter count', async () => {
  const { module } = await compileKernels(false);
  const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  assert.equal(exported.sort(), ['heapBase', ...kernelNames].sort());
  const kernels = instantiate(module, new WebAssembly.Memory({ initial: 256, maximum: 65536 }));
  for (const name of kernelNames) assert.is(kernels[name].length, kernelParams[name].length + 2, `${name} (with part, parts)`);
});

test('fill', async () => {
  for (const n of [1, 7, 1000, 70001]) {
    const [r, w] = pair(randomData(n));
    ref.fill(r, 2.5);
    wasm.fill(w, 2.5);
    await same(r, w, `fill ${n}`, 0);
  }
});

test('strided copy: permutations, flips, offsets, strided outputs', async () => {
  for (let trial = 0; trial < 12; trial++) {
    const shape = [pick([1, 2, 3]), pick([3, 5, 8]), pick([1, 7, 33]), pick([4, 9, 130])];
    const n = count(shape);
    const perm = [0, 1, 2, 3].sort(() => random() - 0.5);
    // source: a permuted and partly flipped view of a bigger buffer
    const base = contiguous(perm.map((p) => shape[p]));
    const srcStrides = shape.map((_, d) => base[perm.indexOf(d)]);
    let offset = 5;
    const flips = shape.map(() => random() < 0.3);
    for (let d = 0; d < 4; d++) if (flips[d]) { offset += (shape[d] - 1) * srcStrides[d]; srcStrides[d] = -srcStrides[d]; }
    const [rs, ws] = pair(randomData(n + 5));
    // destination: every other element of a twice-as-long last axis, after an offset of 3
    const outStrides = contiguous(shape).map((s) => s * 2);
    const [ro, wo] = pair(randomData(2 * n + 3));
    ref.copy(rs, { offset, strides: srcStrides }, ro, { offset: 3, strides: outStrides }, shape);
    wasm.copy(ws, { offset, strides: srcStrides }, wo, { offset: 3, strides: outStrides }, shape);
    await same(ro, wo, `copy ${shape} perm ${perm}`, 0);
    ref.free(rs); wasm.free(ws);
  }
});

const unaryCases: [UnaryOp, number, number, number, number][] = [ // op, a, b, data range
  ['neg', 0, 0, -3, 3], ['exp', 0, 0, -5, 5], ['log', 0, 0, 0.01, 10], ['sqrt', 0, 0, 0, 10], ['abs', 0, 0, -3, 3],
  ['tanh', 0, 0, -4, 4], ['sigmoid', 0, 0, -8, 8], ['relu', 0, 0, -3, 3], ['square', 0, 0, -3, 3],
  ['sign', 0, 0, -3, 3], ['step', 0, 0, -3, 3], ['pow', 2.5, 0, 0.1, 3], ['pow', 3, 0, -2, 2],
  ['clamp', -0.5, 0.7, -2, 2], ['inRange', -0.5, 0.7, -2, 2], ['affine', 1.5, -0.25, -2, 2],
];

test('unary ops', async () => {
  for (const [op, a, b, lo, hi] of unaryCases) {
    for (const n of [3, 101, 40003]) {
      const data = randomData(n, lo, hi);
      if (lo <= 0 && hi >= 0) data[0] = 0; // the edge of step, sign, relu
      const [rx, wx] = pair(data);
      const ro = ref.alloc(n), wo = wasm.alloc(n);
      ref.unary(op, rx, ro, a, b);
      wasm.unary(op, wx, wo, a, b);
      await same(ro, wo, `${op} n=${n}`);
      ref.free(rx); wasm.free(wx);
    }
  }
});

const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'];

/** Strides of `shape` broadcast to `out` (a stride of 0 on each size-1 axis). */
const broadcastStrides = (shape: number[], out: number[]) => contiguous(shape).map((s, d) => (shape[d] === 1 && out[d] !== 1 ? 0 : s));

const broadcastCases: [number[], number[], number[]][] = [ // a, b, out
  [[3, 5, 7], [3, 5, 7], [3, 5, 7]],
  [[2, 6, 9, 11], [1, 6, 1, 1], [2, 6, 9, 11]],
  [[1, 1, 1], [4, 17, 33], [4, 17, 33]],
  [[5, 1, 13], [1, 9, 1], [5, 9, 13]],
  [[3, 4096], [3, 1], [3, 4096]],
  [[2, 3, 20000], [2, 3, 20000], [2, 3, 20000]],
];

test('broadcasting binary ops', async () => {
  for (const op of binaryOps) {
    for (const [sa, sb, so] of broadcastCases) {
      const da = randomData(count(sa)), db = randomData(count(sb));
      // repeated values make eq/le/ge meaningful
      for (let i = 0; i < da.length; i += 3) da[i] = db[i % db.length];
      const [ra, wa] = pair(da), [rb, wb] = pair(db);
      const ro = ref.alloc(count(so)), wo = wasm.alloc(count(so));
      ref.binary(op, ra, broadcastStrides(sa, so), rb, broadcastStrides(sb, so), ro, so);
      wasm.binary(op, wa, broadcastStrides(sa, so), wb, broadcastStrides(sb, so), wo, so);
      await same(ro, wo, `${op} [${sa}] [${sb}]`);
      ref.free(ra); wasm.free(wa); ref.free(rb); wasm.free(wb);
    }
  }
});

test('where with three broadcast operands', async () => {
  for (const [sa, sb, so] of broadcastCases) {
    const sc = so.map((s, d) => (d % 2 ? s : 1));
    const dc = randomData(count(sc)).map((v) => (v > 0 ? 1 : 0));
    const [rc, wc] = pair(dc), [ra, wa] = pair(randomData(count(sa))), [rb, wb] = pair(randomData(count(sb)));
    const ro = ref.alloc(count(so)), wo = wasm.alloc(count(so));
    const strides = [broadcastStrides(sc, so), broadcastStrides(sa, so), broadcastStrides(sb, so)];
    ref.where(rc, strides[0], ra, strides[1], rb, strides[2], ro, so);
    wasm.where(wc, strides[0], wa, strides[1], wb, strides[2], wo, so);
    await same(ro, wo, `where [${so}]`, 0);
    for (const b of [rc, ra, rb]) ref.free(b);
    for (const b of [wc, wa, wb]) wasm.free(b);
  }
});

const reduceShapes = [[1, 5, 1], [3, 1000, 1], [2, 3, 17], [4, 33, 40], [1, 70001, 1], [5, 7, 3001], [2, 40, 16]];

test('reduce sum and max, argmax over [outer, r, inner]', async () => {
  for (const [outer, r, inner] of reduceShapes) {
    const data = randomData(outer * r * inner, -1, 1.5);
    for (const op of ['sum', 'max'] as const) {
      const [rx, wx] = pair(data);
      const ro = ref.alloc(outer * inner), wo = wasm.alloc(outer * inner);
      ref.reduce(op, rx, ro, outer, r, inner);
      wasm.reduce(op, wx, wo, outer, r, inner);
      await same(ro, wo, `${op} [${outer}, ${r}, ${inner}]`);
      ref.free(rx); wasm.free(wx);
    }
    // ties: the first maximum wins
    const tied = data.map((v) => Math.round(v * 2));
    const [rx, wx] = pair(tied);
    const ro = ref.alloc(outer * inner), wo = wasm.alloc(outer * inner);
    ref.argmax(rx, ro, outer, r, inner);
    wasm.argmax(wx, wo, outer, r, inner);
    await same(ro, wo, `argmax [${outer}, ${r}, ${inner}]`, 0);
    ref.free(rx); wasm.free(wx);
  }
});

test('max propagates NaN like the reference', async () => {
  const data = randomData(3 * 9 * 20);
  data[37] = NaN;
  for (const [outer, r, inner] of [[3, 9, 20], [27, 20, 1]]) {
    const [rx, wx] = pair(data);
    const ro = ref.alloc(outer * inner), wo = wasm.alloc(outer * inner);
    ref.reduce('max', rx, ro, outer, r, inner);
    wasm.reduce('max', wx, wo, outer, r, inner);
    const expected = await ref.read(ro), actual = await wasm.read(wo);
    const nans = (a: Float32Array) => [...a.keys()].filter((i) => Number.isNaN(a[i]));
    assert.equal(nans(actual), nans(expected), 'NaN positions');
    assert.ok(nans(expected).length > 0, 'the NaN reached an output');
    const zeroNaN = (a: Float32Array) => a.map((v) => (Number.isNaN(v) ? 0 : v));
    assertClose(zeroNaN(actual), zeroNaN(expected), TOL, `max with NaN [${outer}, ${r}, ${inner}]`);
    for (const b of [rx, ro]) ref.free(b);
    for (const b of [wx, wo]) wasm.free(b);
  }
});

test('matmul: transposes, batches, odd sizes', async () => {
  for (const [batch, m, k, n] of [[1, 1, 1, 1], [1, 5, 7, 3], [3, 9, 13, 17], [1, 64, 300, 70], [2, 33, 1, 9]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const [ra, wa] = pair(randomData(batch * m * k)), [rb, wb] = pair(randomData(batch * k * n));
        const ro = ref.alloc(batch * m * n), wo = wasm.alloc(batch * m * n);
        ref.matmul(ra, rb, ro, batch, m, k, n, transA, transB);
        wasm.matmul(wa, wb, wo, batch, m, k, n, transA, transB);
        await same(ro, wo, `matmul b${batch} ${m}x${k}x${n} tA=${transA} tB=${transB}`);
        ref.free(ra); wasm.free(wa); ref.free(rb); wasm.free(wb);
      }
    }
  }
});

type Triple = [number, number, number];
const geometry = convGeometry;

const t3 = (v: number): Triple => [v, v, v];
const convCases: ConvGeometry[] = [
  geometry(1, 1, 16, [9, 10, 11], t3(3), t3(1), t3(1), t3(1)),  // first V-Net layer, odd sizes
  geometry(3, 5, 6, [7, 6, 9], t3(3), t3(1), t3(1), t3(1)),
  geometry(1, 3, 5, [9, 8, 7], t3(3), t3(1), t3(2), t3(2)),     // dilation 2, padding 2
  geometry(3, 6, 3, [8, 9, 10], t3(3), t3(2), t3(1), t3(1)),    // stride 2
  geometry(1, 4, 7, [8, 6, 10], t3(2), t3(2), t3(0), t3(1)),    // V-Net down-conv
  geometry(3, 7, 2, [5, 6, 7], t3(1), t3(1), t3(0), t3(1)),     // 1×1×1 head, 2 classes
  geometry(1, 3, 5, [7, 8, 9], [3, 1, 2], [1, 2, 1], [0, 1, 2], [2, 1, 1]), // anisotropic everything
  geometry(1, 2, 3, [6, 7, 5], t3(3), t3(1), t3(0), t3(1)),     // valid convolution
  geometry(3, 9, 5, [5, 7, 6], t3(3), [2, 1, 2], t3(2), t3(2)),
  geometry(1, 3, 4, [10, 9, 12], t3(3), t3(1), t3(0), t3(1)),   // unpadded input read in place
  geometry(3, 5, 6, [24, 26, 22], t3(2), t3(2), t3(0), t3(1)),  // a batch of over 2048 outputs: the long-reduction gradients
  // rows narrower than 8 outputs: the gather kernels over the padded batch, in both layouts
  geometry(3, 13, 11, [2, 3, 2], t3(3), t3(1), t3(1), t3(1)),   // the V-Net's deepest level, odd channels
  geometry(1, 10, 9, [3, 4, 2], t3(3), t3(1), t3(2), t3(1)),    // padding 2
  geometry(3, 6, 5, [4, 5, 3], t3(3), t3(1), t3(0), t3(1)),     // padding 0: x read in place
  geometry(1, 9, 7, [5, 9, 7], t3(2), t3(2), t3(0), t3(1)),     // a deep down-conv
  geometry(3, 5, 3, [40, 30, 6], t3(2), t3(2), t3(0), t3(1)),   // narrow rows, over 2048 outputs
  geometry(1, 3, 5, [6, 5, 17], t3(2), t3(2), t3(0), t3(1)),    // wide rows, few outputs: transposed im2col/col2im
  // taps that never overlap (k·d ≤ s, no padding): the input gradient written in place, odd sizes leaving
  // inputs no tap reads, and an anisotropic kernel, stride and dilation
  geometry(3, 5, 64, [5, 7, 6], t3(2), t3(2), t3(0), t3(1)),
  geometry(1, 3, 65, [9, 8, 10], [2, 1, 2], [3, 2, 3], t3(0), [2, 1, 1]),
  // overlapping strided taps over more than 2048 outputs: col2im on wide rows, the scatter kernel on narrow ones
  geometry(3, 3, 4, [20, 14, 20], t3(3), t3(2), t3(1), t3(1)),
  geometry(3, 4, 5, [30, 20, 9], t3(3), t3(2), t3(1), t3(1)),
  // kernel = stride = 2 (packed patch panels): odd sizes that leave a last plane, row and column unread,
  // rows of 2, 3 and 10 outputs (vector, scalar and partial-tile columns), channels 1, 3, 13, batch 1 and 3
  geometry(1, 1, 3, [7, 5, 9], t3(2), t3(2), t3(0), t3(1)),
  geometry(3, 13, 3, [7, 5, 9], t3(2), t3(2), t3(0), t3(1)),
  geometry(3, 3, 13, [5, 7, 21], t3(2), t3(2), t3(0), t3(1)),
  geometry(1, 13, 1, [4, 6, 7], t3(2), t3(2), t3(0), t3(1)),
  geometry(3, 40, 6, [6, 5, 9], t3(2), t3(2), t3(0), t3(1)),    // 320 taps, a deep down-conv's depth
  // tiny volumes that skip the taps falling in the padding (skip-padding.ts): groups of 2–15 columns,
  // and odd columns per group with output channels over three blocks of 16 and input channels over five chunks
  geometry(3, 16, 16, [2, 5, 2], t3(3), t3(1), t3(1), t3(1)),
  geometry(3, 37, 35, [2, 3, 2], t3(3), t3(1), t3(1), t3(1)),
  geometry(2, 16, 14, [3, 2, 2], t3(3), t3(1), [1, 2, 1], t3(1)),
];

const describe = (g: ConvGeometry) =>
  `n${g.n} ${g.cin}->${g.cout} in[${g.in}] k[${g.kernel}] s[${g.stride}] p[${g.padding}] d[${g.dilation}]`;

/** conv3d and both gradients against the ref backend, each case with fresh buffers. */
async function checkConvs(cases: ConvGeometry[], label = '') {
  for (const g of cases) {
    const xSize = g.n * g.cin * count(g.in), ySize = g.n * g.cout * count(g.out);
    const wSize = g.cout * g.cin * count(g.kernel);
    const [rx, wx] = pair(randomData(xSize)), [rw, ww] = pair(randomData(wSize)), [rdy, wdy] = pair(randomData(ySize));
    let ro = ref.alloc(ySize), wo = wasm.alloc(ySize);
    ref.conv3d(rx, rw, ro, g); wasm.conv3d(wx, ww, wo, g);
    await same(ro, wo, `${label}conv3d ${describe(g)}`);
    ro = ref.alloc(xSize); wo = wasm.alloc(xSize);
    ref.conv3dBackwardInput(rdy, rw, ro, g); wasm.conv3dBackwardInput(wdy, ww, wo, g);
    await same(ro, wo, `${label}conv3dBackwardInput ${describe(g)}`);
    ro = ref.alloc(wSize); wo = wasm.alloc(wSize);
    ref.conv3dBackwardWeight(rx, rdy, ro, g); wasm.conv3dBackwardWeight(wx, wdy, wo, g);
    await same(ro, wo, `${label}conv3dBackwardWeight ${describe(g)}`);
    for (const b of [rx, rw, rdy]) ref.free(b);
    for (const b of [wx, ww, wdy]) wasm.free(b);
  }
}

test('conv3d forward, input gradient and weight gradient', () => checkConvs(convCases));

test('tiny volumes take the route that skips the padding, forward and input gradient', () => {
  const [deepest, [wide, deep, padded]] = [convCases[11], convCases.slice(-3)];
  for (const g of [deepest, wide, deep, padded]) assert.ok(tapGroups(g), `forward ${describe(g)}`);
  for (const g of [deepest, wide, deep, padded]) assert.ok(tapGroups(inputGradientForm(g)), `input gradient ${describe(g)}`);
  assert.is(tapGroups(convCases[1]), null, 'a 7×6×9 volume keeps the dense product');
});

// Winograd F(2×2×2, 3×3×3), forced even where the route choice would not take it: odd sizes (partial
// tiles), channels that are not multiples of 4, batch 1 and 3, padding 0–2 (input gradient padding 2–0),
// volumes that the kernels cut into blocks of tile rows (several per sample, the last one short), and
// channel pairs on either side of the weight gradient's switch from blocks to chunks (32 × 32) and of the
// forward's switch from fused to staged (128 × 128).
const winogradCases: ConvGeometry[] = [
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
];

test('Winograd route: conv3d forward, input gradient and weight gradient', async () => {
  const address = (b: BackendBuffer) => (b as unknown as { ptr: number }).ptr;
  for (const g of winogradCases) {
    const xSize = g.n * g.cin * count(g.in), ySize = g.n * g.cout * count(g.out), wSize = g.cout * g.cin * 27;
    const [rx, wx] = pair(randomData(xSize)), [rw, ww] = pair(randomData(wSize)), [rdy, wdy] = pair(randomData(ySize));
    let ro = ref.alloc(ySize), wo = wasm.alloc(ySize);
    ref.conv3d(rx, rw, ro, g);
    conv3dForward(wasm.device, address(wx), address(ww), address(wo), g, true);
    await same(ro, wo, `Winograd conv3d ${describe(g)}`);
    ro = ref.alloc(xSize); wo = wasm.alloc(xSize);
    ref.conv3dBackwardInput(rdy, rw, ro, g);
    conv3dBackwardInput(wasm.device, address(wdy), address(ww), address(wo), g, true);
    await same(ro, wo, `Winograd conv3dBackwardInput ${describe(g)}`);
    ro = ref.alloc(wSize); wo = wasm.alloc(wSize);
    ref.conv3dBackwardWeight(rx, rdy, ro, g);
    conv3dBackwardWeight(wasm.device, address(wx), address(wdy), address(wo), g, true);
    await same(ro, wo, `Winograd conv3dBackwardWeight ${describe(g)}`);
    for (const b of [rx, rw, rdy]) ref.free(b);
    for (const b of [wx, ww, wdy]) wasm.free(b);
  }
});

test('Winograd weight gradient in chunks of tile rows that cross samples and end inside them', async () => {
  const address = (b: BackendBuffer) => (b as unknown as { ptr: number }).ptr;
  // 3 samples of 3 × 4 tile rows of 3 tiles; chunks of 5 rows: pieces of 5, 2 + 3, 4 + 1, ...
  const g = geometry(3, 33, 34, [6, 7, 5], t3(3), t3(1), t3(1), t3(1));
  const xSize = g.n * g.cin * count(g.in), ySize = g.n * g.cout * count(g.out), wSize = g.cout * g.cin * 27;
  const [rx, wx] = pair(randomData(xSize)), [rdy, wdy] = pair(randomData(ySize));
  const ro = ref.alloc(wSize), wo = wasm.alloc(wSize);
  ref.conv3dBackwardWeight(rx, rdy, ro, g);
  winogradWeightGrad(wasm.device, address(wx), address(wdy), address(wo),
                     { n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, pad: g.padding }, 5 * 64 * (33 + 34) * 3);
  await same(ro, wo, `Winograd conv3dBackwardWeight in chunks ${describe(g)}`);
  for (const b of [rx, rdy]) ref.free(b);
  for (const b of [wx, wdy]) wasm.free(b);
});

test('the conv cases reach every route of every pass', () => {
  for (const pass of ['forward', 'inputGrad', 'weightGrad'] as ConvPass[]) {
    const missed = convRouteNames(pass).filter((name) => !wasm.device.convRoutes.has(`${pass} ${name}`));
    assert.equal(missed, [], `${pass}: routes no case reached`);
  }
});

/** [n, c, vol] views of the normalisation primitives: c = 1, 3, 7; n = 1, 3; odd and long volumes. */
const channelShapes: [number, number, number][] = [[1, 1, 5], [3, 3, 7], [1, 7, 33], [3, 7, 1], [2, 3, 70001]];

test('channelMoments: per-channel mean and biased variance, offset data', async () => {
  for (const [n, c, vol] of channelShapes) {
    const data = randomData(n * c * vol, 2, 5); // a mean far from 0 tests the two-pass variance
    const [rx, wx] = pair(data);
    const [rs, ws] = pair(new Float32Array(2 * c));
    ref.channelMoments(rx, rs, n, c, vol);
    wasm.channelMoments(wx, ws, n, c, vol);
    await same(rs, ws, `channelMoments [${n}, ${c}, ${vol}]`, 1e-6);
    ref.free(rx); wasm.free(wx);
  }
});

test('channelAffine: with and without ReLU and residual', async () => {
  for (const [n, c, vol] of channelShapes) {
    for (const relu of [false, true]) {
      for (const withResidual of [false, true]) {
        const [rx, wx] = pair(randomData(n * c * vol)), [rsc, wsc] = pair(randomData(c, -2, 2));
        const [rsh, wsh] = pair(randomData(c)), [rr, wr] = pair(randomData(n * c * vol));
        const [ro, wo] = pair(new Float32Array(n * c * vol));
        ref.channelAffine(rx, rsc, rsh, withResidual ? rr : null, ro, n, c, vol, relu);
        wasm.channelAffine(wx, wsc, wsh, withResidual ? wr : null, wo, n, c, vol, relu);
        await same(ro, wo, `channelAffine [${n}, ${c}, ${vol}] relu ${relu} residual ${withResidual}`);
        for (const [r, w] of [[rx, wx], [rsc, wsc], [rsh, wsh], [rr, wr]]) { ref.free(r); wasm.free(w); }
      }
    }
  }
});

test('channelAffineBackward and channelAffineBackwardInput: per-channel sums and the input gradient', async () => {
  for (const [n, c, vol] of channelShapes) {
    for (const relu of [false, true]) {
      const what = `[${n}, ${c}, ${vol}] relu ${relu}`;
      const [rg, wg] = pair(randomData(n * c * vol)), [rx, wx] = pair(randomData(n * c * vol));
      const [rsc, wsc] = pair(randomData(c, -2, 2)), [rsh, wsh] = pair(randomData(c));
      const [ra, wa] = pair(randomData(c)), [rb, wb] = pair(randomData(c));
      const [rgx, wgx] = pair(new Float32Array(n * c * vol)), [rs, ws] = pair(new Float32Array(2 * c));
      ref.channelAffineBackward(rg, rx, rsc, rsh, rs, n, c, vol, relu);
      wasm.channelAffineBackward(wg, wx, wsc, wsh, ws, n, c, vol, relu);
      await same(rs, ws, `channelAffineBackward sums ${what}`);
      ref.channelAffineBackwardInput(rg, rx, rsc, rsh, ra, rb, rgx, n, c, vol, relu);
      wasm.channelAffineBackwardInput(wg, wx, wsc, wsh, wa, wb, wgx, n, c, vol, relu);
      await same(rgx, wgx, `channelAffineBackwardInput ${what}`);
      for (const [r, w] of [[rg, wg], [rx, wx], [rsc, wsc], [rsh, wsh], [ra, wa], [rb, wb]]) { ref.free(r); wasm.free(w); }
    }
  }
});

test('normalisation kernels: 1 and 3 threads give bitwise identical results', async () => {
  const before = wasm.threads;
  const [n, c, vol] = [2, 3, 70001];
  const inputs = [randomData(n * c * vol), randomData(n * c * vol), randomData(c, -2, 2), randomData(c), randomData(c),
                  randomData(c)];
  const run = async (threads: number) => {
    await vg.setWasmThreads(threads);
    const [gy, x, scale, shift, a, b] = inputs.map((d) => { const buf = wasm.alloc(d.length); wasm.write(buf, d); return buf; });
    const stats = wasm.alloc(2 * c), out = wasm.alloc(n * c * vol), gx = wasm.alloc(n * c * vol), sums = wasm.alloc(2 * c);
    wasm.channelMoments(x, stats, n, c, vol);
    wasm.channelAffine(x, scale, shift, gy, out, n, c, vol, true);
    wasm.channelAffineBackward(gy, x, scale, shift, sums, n, c, vol, true);
    wasm.channelAffineBackwardInput(gy, x, scale, shift, a, b, gx, n, c, vol, true);
    const results = await Promise.all([stats, out, sums, gx].map((buf) => wasm.read(buf)));
    for (const buf of [gy, x, scale, shift, a, b, stats, out, gx, sums]) wasm.free(buf);
    return results;
  };
  const one = await run(1), three = await run(3);
  ['moments', 'affine', 'backward sums', 'backward input'].forEach((what, i) => assert.equal(three[i], one[i], what));
  await vg.setWasmThreads(before);
});

/** Conv forward and both gradients at one thread count, as raw results. */
async function convRun(threads: number, g: ConvGeometry, x: Float32Array, w: Float32Array, dy: Float32Array) {
  await vg.setWasmThreads(threads);
  const bx = wasm.alloc(x.length), bw = wasm.alloc(w.length), bdy = wasm.alloc(dy.length);
  wasm.write(bx, x); wasm.write(bw, w); wasm.write(bdy, dy);
  const outs = [wasm.alloc(dy.length), wasm.alloc(x.length), wasm.alloc(w.length)];
  wasm.conv3d(bx, bw, outs[0], g);
  wasm.conv3dBackwardInput(bdy, bw, outs[1], g);
  wasm.conv3dBackwardWeight(bx, bdy, outs[2], g);
  const results = await Promise.all(outs.map((b) => wasm.read(b)));
  for (const b of [bx, bw, bdy, ...outs]) wasm.free(b);
  return results;
}

test('the same thread count gives bitwise identical results; 1 and 3 threads agree', async () => {
  const before = wasm.threads;
  // 5 → 7 channels take the GEMM routes, 16 → 12 and 32 → 33 over this many tiles the Winograd ones (the
  // weight gradient in blocks of tiles summed per group, and in chunks of tiles); the k2s2 down-conv the
  // patch kernels, with a panel slot per part; 130 → 129 channels over 24 tiles the staged Winograd
  // forward and the direct weight gradient; a 2×3×2 volume the products that skip the padding
  const geometries = [[5, 7], [16, 12], [32, 33]].map(([cin, cout]) => geometry(2, cin, cout, [9, 10, 11], t3(3), t3(1), t3(1), t3(1)));
  geometries.push(geometry(2, 16, 32, [17, 12, 19], t3(2), t3(2), t3(0), t3(1)));
  geometries.push(geometry(2, 130, 129, [4, 6, 4], t3(3), t3(1), t3(1), t3(1)));
  geometries.push(geometry(2, 20, 24, [2, 3, 2], t3(3), t3(1), t3(1), t3(1)));
  for (const g of geometries) {
    const x = randomData(g.n * g.cin * count(g.in)), w = randomData(g.cout * g.cin * count(g.kernel)), dy = randomData(g.n * g.cout * count(g.out));
    const a = await convRun(3, g, x, w, dy), b = await convRun(3, g, x, w, dy), c = await convRun(1, g, x, w, dy);
    for (let i = 0; i < 3; i++) {
      assert.equal(a[i], b[i], `${describe(g)}: result ${i} differs between two runs on 3 threads`);
      assertClose(c[i], a[i], TOL, `${describe(g)}: result ${i}, 1 vs 3 threads`);
    }
  }
  await vg.setWasmThreads(before);
});

test('weight gradients cut by chunks of positions: the reference values, the same bits on 1 and 3 threads', async () => {
  const before = wasm.threads;
  // a first-layer conv whose dot products run over 48 chunks of rows a sample (on 3 threads cut by
  // chunks, on 1 by tiles of dw); k2s2 down-convs over 16 chunks (both thread counts by chunks: odd rows
  // of 13, 5 outputs) and over 2 (3 threads by input channels, 1 by chunks)
  const geometries = [
    geometry(2, 1, 4, [24, 30, 40], t3(3), t3(1), t3(1), t3(1)),
    geometry(2, 2, 5, [48, 48, 26], t3(2), t3(2), t3(0), t3(1)),
    geometry(2, 16, 32, [17, 12, 19], t3(2), t3(2), t3(0), t3(1)),
  ];
  for (const g of geometries) {
    const x = randomData(g.n * g.cin * count(g.in)), w = randomData(g.cout * g.cin * count(g.kernel)), dy = randomData(g.n * g.cout * count(g.out));
    const [, , dw3] = await convRun(3, g, x, w, dy), [, , dw1] = await convRun(1, g, x, w, dy);
    assert.equal(dw3, dw1, `${describe(g)}: weight gradient differs between 1 and 3 threads`);
    const rx = ref.alloc(x.length), rdy = ref.alloc(dy.length), rdw = ref.alloc(w.length);
    ref.write(rx, x); ref.write(rdy, dy);
    ref.conv3dBackwardWeight(rx, rdy, rdw, g);
    assertClose(dw3, await ref.read(rdw), TOL, `conv3dBackwardWeight ${describe(g)}, 3 threads`);
    for (const b of [rx, rdy, rdw]) ref.free(b);
  }
  await vg.setWasmThreads(before);
});

/** Two V-Net training steps (dropout and batch-norm statistics included) on a fresh wasm backend. */
/** Two training steps of a small V-Net on a fresh wasm backend; `pastTwoGiB`: with every block above 2 GiB. */
async function vnetSteps(threads: number, pastTwoGiB = false): Promise<Float32Array[]> {
  vg.disposeBackends();
  await vg.setWasmThreads(threads);
  await vg.setBackend('wasm');
  // never written, so never committed: every later block (tensors, scratch, row tables) lies above it
  if (pastTwoGiB) (vg.getBackend() as WasmBackend).alloc(2 ** 29 + 2 ** 16);
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 4, normalization: 'batchnorm', hasDropout: true,
                               heads: 'seg+sdm', seed: 3 });
  const gen = new vg.Generator(3);
  const x = vg.randn([2, 1, 16, 16, 16], gen);
  const y = vg.tensor(Float32Array.from({ length: 2 * 16 ** 3 }, () => +(gen.uniform() > 0.5)), [2, 16, 16, 16]);
  const results: Float32Array[] = [];
  for (let step = 0; step < 2; step++) {
    const loss = vg.scope(() => {
      const { seg, sdm } = net.forward(x);
      const l = vg.add(vg.crossEntropy(seg, y), vg.mean(vg.square(sdm!)));
      l.backward();
      return vg.detach(l);
    });
    results.push(await loss.data());
    for (const p of net.parameters()) results.push(await p.grad!.data());
    net.zeroGrad();
  }
  return results;
}

test('V-Net training steps are bitwise identical for the same seed and thread count', async () => {
  const before = wasm.threads;
  const a = await vnetSteps(2), b = await vnetSteps(2);
  assert.is(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.equal(a[i], b[i], `result ${i} (loss or gradient) differs between runs`);
  vg.disposeBackends();
  await vg.setWasmThreads(before);
  await vg.setBackend('wasm');
  wasm = vg.getBackend() as WasmBackend;
});

test('heap: freed blocks are reused, buffers are counted, oversized tensors get a clear error', () => {
  const live = wasm.liveBuffers();
  const a = wasm.alloc(1000) as BackendBuffer & { ptr: number };
  wasm.free(a);
  const b = wasm.alloc(1000) as BackendBuffer & { ptr: number };
  assert.is(b.ptr, a.ptr, 'a freed block of the same size class is reused');
  assert.is(wasm.liveBuffers(), live + 1);
  wasm.free(b);
  assert.is(wasm.liveBuffers(), live);
  assert.throws(() => wasm.alloc(2 ** 30 + 16), /does not fit in the 4 GiB WebAssembly address space/);
});

test('buffers past 2 GiB (byte addresses above 2^31): written, read back, convolved, trained on', async () => {
  const before = wasm.threads;
  const low = await vnetSteps(2), high = await vnetSteps(2, true);
  for (let i = 0; i < low.length; i++) assert.equal(high[i], low[i], `result ${i} (loss or gradient) differs past 2 GiB`);
  wasm = vg.getBackend() as WasmBackend;
  const probe = wasm.alloc(1000) as BackendBuffer & { ptr: number };
  assert.ok(probe.ptr >= 2 ** 31, `a block after the filler starts at ${probe.ptr}`);
  const data = randomData(1000);
  wasm.write(probe, data);
  assert.equal(Array.from(await wasm.read(probe)), Array.from(data), 'read gives back what write put');
  wasm.free(probe);
  await checkConvs(convCases, 'past 2 GiB: ');
  vg.disposeBackends();
  await vg.setWasmThreads(before);
});

test.after(() => vg.disposeBackends());

test.run();

