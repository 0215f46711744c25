// What is the wasm backend's own (its primitives against ref run in test/conformance.test.ts): the
// kernel table, which route each geometry takes (skip-padding, Winograd in chunks), thread-count
// determinism, the heap allocator and buffers past 2 GiB.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import type { BackendBuffer, ConvGeometry } from '../engine/backend.ts';
import type { WasmBackend } from '../engine/backends/wasm/backend.ts';
import { compileKernels, instantiate, kernelNames, kernelParams } from '../engine/backends/wasm/kernels.ts';
import { inputGradientForm, tapGroups } from '../engine/backends/wasm/skip-padding.ts';
import { winogradWeightGrad } from '../engine/backends/wasm/winograd.ts';
import { assertClose } from './helpers/compare.ts';
import { checkConvCases, count, describeConv as describe, Harness, ref } from './helpers/conformance.ts';
import { wasmConvCases } from './helpers/conformance-cases.ts';
import { convGeometry as geometry } from './helpers/conv-geometry.ts';

const TOL = 1e-5;
let wasm: WasmBackend;

const gen = new vg.Generator(12345);
const randomData = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * gen.uniform());
const t3 = (v: number): [number, number, number] => [v, v, v];
const convCases = wasmConvCases.map((c) => c.g);

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

test('tiny volumes take the route that skips the padding, forward and input gradient', () => {
  const [deepest, [wide, deep, padded]] = [convCases[11], convCases.slice(-3)];
  for (const g of [deepest, wide, deep, padded]) assert.ok(tapGroups(g), `forward ${describe(g)}`);
  for (const g of [deepest, wide, deep, padded]) assert.ok(tapGroups(inputGradientForm(g)), `input gradient ${describe(g)}`);
  assert.is(tapGroups(convCases[1]), null, 'a 7×6×9 volume keeps the dense product');
});

test('Winograd weight gradient in chunks of tile rows that cross samples and end inside them', async () => {
  const address = (b: BackendBuffer) => (b as unknown as { ptr: number }).ptr;
  // 3 samples of 3 × 4 tile rows of 3 tiles; chunks of 5 rows: pieces of 5, 2 + 3, 4 + 1, ...
  const g = geometry(3, 33, 34, [6, 7, 5], t3(3), t3(1), t3(1), t3(1));
  const xSize = g.n * g.cin * count(g.in), ySize = g.n * g.cout * count(g.out), wSize = g.cout * g.cin * 27;
  await new Harness(wasm, 12345).same(wSize, TOL, `Winograd conv3dBackwardWeight in chunks ${describe(g)}`, (b, i, out) => {
    if (b === ref) b.conv3dBackwardWeight(i(0), i(1), out, g);
    else winogradWeightGrad(wasm.device, address(i(0)), address(i(1)), address(out),
                            { n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, pad: g.padding }, 5 * 64 * (33 + 34) * 3);
  }, [randomData(xSize), randomData(ySize)]);
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
  await checkConvCases(new Harness(wasm, 12345), wasmConvCases, 'past 2 GiB: ');
  vg.disposeBackends();
  await vg.setWasmThreads(before);
});

test.after(() => vg.disposeBackends());

test.run();

