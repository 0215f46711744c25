// The WebGPU backend primitive by primitive against the reference backend on random small shapes
// (SwiftShader runs ~0.1 GFLOP/s, so shapes stay small), plus its buffer pool over 1000 training steps.
// Without an adapter the suite is reported and skipped, except under CI=true, where it fails.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import type { Backend, BackendBuffer, ConvGeometry } from '../index.ts';
import { RefBackend } from '../engine/backends/ref.ts';
import { tapsPartitionInput, type WebGPUBackend } from '../engine/backends/webgpu/backend.ts';
import { convVec, matmulVec } from '../engine/backends/webgpu/gemm-vec.ts';
import { useBackend } from './helpers/backends.ts';
import { assertClose } from './helpers/compare.ts';
import { convGeometry } from './helpers/conv-geometry.ts';
import { repoRoot } from './helpers/fixtures.ts';
import { execFileSync } from 'node:child_process';

const FWD = 1e-4, GRAD = 1e-3;
const ref = new RefBackend('ref', Float32Array);
let gpu: WebGPUBackend;
const gen = new vg.Generator(11);

const randoms = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * gen.uniform());
const ints = (n: number, k: number) => Float32Array.from({ length: n }, () => Math.floor(k * gen.uniform()));
const contiguous = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** The same data uploaded to both backends. */
function pair(data: Float32Array): [BackendBuffer, BackendBuffer] {
  const r = ref.alloc(data.length), g = gpu.alloc(data.length);
  ref.write(r, data);
  gpu.write(g, data);
  return [r, g];
}

/** Runs op on both backends into fresh outputs of `size` and compares the outputs. */
async function same(size: number, tol: number, what: string, op: (b: Backend, bufs: (i: number) => BackendBuffer, out: BackendBuffer) => void,
                    inputs: Float32Array[], outFill = 0) {
  const bufs = inputs.map(pair);
  const outs: BackendBuffer[] = [];
  for (const [k, b] of [ref, gpu].entries()) {
    const out = b.alloc(size);
    b.fill(out, outFill);
    op(b, (i) => bufs[i][k], out);
    outs.push(out);
  }
  const [want, got] = [await ref.read(outs[0]), await gpu.read(outs[1])];
  assertClose(got, want, tol, what);
  bufs.forEach(([r, g]) => { ref.free(r); gpu.free(g); });
  ref.free(outs[0]);
  gpu.free(outs[1]);
}

const s = suite('webgpu primitives vs ref');
let available = false;
s.before(async () => {
  available = await useBackend('webgpu');
  if (available) gpu = vg.getBackend() as WebGPUBackend;
});

s('adapter', () => {
  if (!available) return;
  console.log(`\n  webgpu adapter: ${gpu.adapterName}${gpu.software ? ' [software]' : ''}; features: ${gpu.features.join(', ') || 'none'}`);
});

s('fill and write/read round trip', async () => {
  if (!available) return;
  for (const n of [1, 7, 1000, 70_001]) {
    await same(n, 0, `fill ${n}`, (b, _i, out) => b.fill(out, 2.5), []);
    const data = randoms(n);
    const [r, g] = pair(data);
    assert.equal(await gpu.read(g), data, `round trip ${n}`);
    ref.free(r); gpu.free(g);
  }
});

s('strided copy: permute, slice, flip, repeat, write into a view', async () => {
  if (!available) return;
  const src = randoms(2 * 3 * 4 * 5);
  const cs = contiguous([2, 3, 4, 5]);
  const views: [string, number[], { offset: number; strides: number[] }, { offset: number; strides: number[] }, number][] = [
    ['permute', [5, 4, 2, 3], { offset: 0, strides: [cs[3], cs[2], cs[0], cs[1]] }, { offset: 0, strides: contiguous([5, 4, 2, 3]) }, 120],
    ['slice', [2, 2, 2, 3], { offset: cs[1] + 2 * cs[3], strides: [cs[0], cs[1], cs[2] * 2, cs[3]] }, { offset: 0, strides: contiguous([2, 2, 2, 3]) }, 24],
    ['flip', [2, 3, 4, 5], { offset: 3 * cs[2] + 4, strides: [cs[0], cs[1], -cs[2], -1] }, { offset: 0, strides: cs }, 120],
    ['repeat', [2, 2, 3, 3, 4, 5], { offset: 0, strides: [0, cs[0], 0, cs[1], cs[2], cs[3]] }, { offset: 0, strides: contiguous([2, 2, 3, 3, 4, 5]) }, 720],
    ['into view', [2, 3, 4, 5], { offset: 0, strides: cs }, { offset: 1 * 84 + 7 + 1, strides: [4 * 6 * 7, 6 * 7, 7, 1] }, 2 * 4 * 6 * 7 + 200],
  ];
  for (const [what, shape, sv, ov, outSize] of views) {
    await same(outSize, 0, what, (b, i, out) => b.copy(i(0), sv, out, ov, shape), [src], -7);
  }
});

s('unary: every op', async () => {
  if (!available) return;
  const n = 777;
  const cases: [Parameters<Backend['unary']>[0], Float32Array, number, number][] = [
    ['neg', randoms(n), 0, 0], ['exp', randoms(n, -5, 5), 0, 0], ['log', randoms(n, 0.01, 10), 0, 0],
    ['sqrt', randoms(n, 0, 10), 0, 0], ['abs', randoms(n), 0, 0], ['tanh', randoms(n, -20, 20), 0, 0],
    ['sigmoid', randoms(n, -30, 30), 0, 0], ['relu', randoms(n), 0, 0], ['square', randoms(n), 0, 0],
    ['sign', ints(n, 3).map((v) => v - 1), 0, 0], ['step', randoms(n), 0, 0], ['pow', randoms(n, 0, 3), 2.5, 0],
    ['pow', randoms(n, -3, 3), 3, 0], ['pow', randoms(n, -3, 3), -2, 0], ['clamp', randoms(n), -0.3, 0.4],
    ['inRange', randoms(n), -0.3, 0.4], ['affine', randoms(n), 1.5, -0.25],
  ];
  for (const [op, data, a, b] of cases) {
    await same(n, FWD, `${op}(${a}, ${b})`, (be, i, out) => be.unary(op, i(0), out, a, b), [data]);
  }
});

s('binary with broadcasting: every op', async () => {
  if (!available) return;
  const shape = [3, 4, 5, 6];
  const aShape = [3, 1, 5, 6], bShape = [4, 1, 6];
  const stridesFor = (sh: number[]) => {
    const full = [...new Array(shape.length - sh.length).fill(1), ...sh];
    const c = contiguous(full);
    return full.map((d, i) => (d === 1 ? 0 : c[i]));
  };
  const size = 360;
  for (const op of ['add', 'sub', 'mul', 'div', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const) {
    const [a, b] = op === 'eq' || op === 'ne' || op === 'le' || op === 'ge'
      ? [ints(90, 3), ints(24, 3)] : [randoms(90), randoms(24, 0.5, 2)];
    await same(size, FWD, op, (be, i, out) => be.binary(op, i(0), stridesFor(aShape), i(1), stridesFor(bShape), out, shape), [a, b]);
  }
  await same(1, FWD, 'scalar', (be, i, out) => be.binary('mul', i(0), [], i(1), [], out, []), [randoms(1), randoms(1)]);
});

s('where with broadcasting', async () => {
  if (!available) return;
  await same(2 * 3 * 4, FWD, 'where', (b, i, out) => b.where(i(0), [0, 4, 1], i(1), [12, 4, 1], i(2), [0, 0, 0], out, [2, 3, 4]),
             [ints(12, 2), randoms(24), randoms(1)]);
});

s('reduce sum/max and argmax: row kernel, one tree pass, two tree passes; with and without subgroups', async () => {
  if (!available) return;
  const hasSubgroups = gpu.features.includes('subgroups');
  for (const subgroups of hasSubgroups ? [true, false] : [false]) {
    gpu.subgroupReduce = subgroups;
    const path = subgroups ? 'subgroup tree' : 'workgroup tree';
    const shapes: [number, number, number][] = [[3, 10, 2000], [2, 50, 3], [1, 300, 3], [2, 5000, 1], [1, 20_000, 2], [4, 1, 5]];
    for (const [outer, r, inner] of shapes) {
      const x = randoms(outer * r * inner, -10, 10);
      const tied = ints(outer * r * inner, 5);
      const what = `${path} [${outer},${r},${inner}]`;
      for (const op of ['sum', 'max'] as const) {
        await same(outer * inner, FWD, `${op} ${what}`, (b, i, out) => b.reduce(op, i(0), out, outer, r, inner), [x]);
      }
      await same(outer * inner, 0, `argmax ${what}`, (b, i, out) => b.argmax(i(0), out, outer, r, inner), [x]);
      await same(outer * inner, 0, `argmax with ties ${what}`, (b, i, out) => b.argmax(i(0), out, outer, r, inner), [tied]);
    }
  }
  gpu.subgroupReduce = hasSubgroups;
});

s('reduce sum: ±inf and NaN come through as in ref (row kernel, two tree passes)', async () => {
  if (!available) return;
  for (const [outer, r, inner] of [[2, 50, 3], [1, 20_000, 3]]) {
    const x = randoms(outer * r * inner);
    x[5 * inner] = Infinity;         // column 0
    x[7 * inner + 1] = -Infinity;    // column 1
    x[9 * inner + 2] = NaN;          // column 2
    const [rx, gx] = pair(x);
    const ro = ref.alloc(outer * inner), go = gpu.alloc(outer * inner);
    ref.reduce('sum', rx, ro, outer, r, inner);
    gpu.reduce('sum', gx, go, outer, r, inner);
    const [want, got] = [await ref.read(ro), await gpu.read(go)];
    assert.equal(Array.from(got.subarray(0, 3)), [Infinity, -Infinity, NaN], `[${outer},${r},${inner}] specials`);
    assertClose(got.subarray(3), want.subarray(3), FWD, `[${outer},${r},${inner}] other columns`);
    ref.free(rx); ref.free(ro); gpu.free(gx); gpu.free(go);
  }
});

s('matmul: transposes, batches, several tiles', async () => {
  if (!available) return;
  for (const [batch, m, k, n] of [[2, 5, 7, 9], [1, 70, 33, 130], [3, 17, 40, 20]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await same(batch * m * n, FWD, `matmul ${batch}×${m}×${k}×${n} tA=${transA} tB=${transB}`,
                   (b, i, out) => b.matmul(i(0), i(1), out, batch, m, k, n, transA, transB),
                   [randoms(batch * m * k), randoms(batch * k * n)]);
      }
    }
  }
});

s('matmul: vec4 and scalar staging of each operand in each layout', async () => {
  if (!available) return;
  const seen = new Set<string>();
  // [batch, m, k, n]: all multiples of 4 (several tiles), none, and each dimension alone not.
  for (const [batch, m, k, n] of [[3, 68, 36, 132], [1, 13, 17, 9], [3, 8, 13, 12], [1, 9, 16, 12], [3, 12, 20, 7]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const v = matmulVec(m, k, n, transA, transB);
        seen.add(`A${v.A_VEC}`).add(`B${v.B_VEC}`);
        await same(batch * m * n, FWD, `matmul ${batch}×${m}×${k}×${n} tA=${transA} tB=${transB} ${JSON.stringify(v)}`,
                   (b, i, out) => b.matmul(i(0), i(1), out, batch, m, k, n, transA, transB),
                   [randoms(batch * m * k), randoms(batch * k * n)]);
      }
    }
  }
  assert.equal([...seen].sort(), ['A0', 'A1', 'A2', 'B0', 'B1', 'B2'], 'every load variant ran');
});

const geometry = convGeometry;

const convCases: [string, ConvGeometry][] = [
  ['3³ pad 1', geometry(2, 3, 4, [5, 6, 7], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
  ['2³ stride 2 (V-Net down; input gradient by taps)', geometry(2, 8, 16, [6, 6, 4], [2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1])],
  ['2³ stride 2 with leftover voxels', geometry(1, 3, 5, [7, 6, 5], [2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1])],
  ['dilation 2', geometry(1, 2, 3, [7, 7, 7], [3, 3, 3], [1, 1, 1], [2, 2, 2], [2, 2, 2])],
  ['anisotropic', geometry(2, 3, 5, [5, 6, 7], [1, 3, 2], [2, 1, 3], [0, 1, 1], [1, 2, 1])],
  ['wide channels', geometry(1, 17, 70, [4, 4, 4], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
  ['split-K weight gradient, tree sum of splits', geometry(2, 2, 4, [16, 16, 16], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
  ['split-K weight gradient, row sum of splits', geometry(2, 16, 16, [8, 8, 8], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
];
const vol = (v: number[]) => v[0] * v[1] * v[2];

s('conv3d forward and both gradients', async () => {
  if (!available) return;
  for (const [what, g] of convCases) {
    const xs = g.n * g.cin * vol(g.in), ws = g.cout * g.cin * vol(g.kernel), ys = g.n * g.cout * vol(g.out);
    await same(ys, FWD, `${what}: forward`, (b, i, out) => b.conv3d(i(0), i(1), out, g), [randoms(xs), randoms(ws)]);
    await same(xs, GRAD, `${what}: input gradient`, (b, i, out) => b.conv3dBackwardInput(i(0), i(1), out, g), [randoms(ys), randoms(ws)]);
    await same(ws, GRAD, `${what}: weight gradient`, (b, i, out) => b.conv3dBackwardWeight(i(0), i(1), out, g), [randoms(xs), randoms(ys)]);
  }
});

/** [n, c, vol] views of the normalisation primitives: c = 1, 3, 7; n = 1, 3; odd volumes; 1, 2 and 7 chunks per channel. */
const channelShapes: [number, number, number][] = [[1, 1, 5], [3, 3, 7], [1, 7, 33], [3, 7, 1], [2, 3, 3001], [3, 1, 9001]];

s('channelMoments: per-channel mean and biased variance, offset data', async () => {
  if (!available) return;
  for (const [n, c, vol] of channelShapes) {
    await same(2 * c, FWD, `channelMoments [${n}, ${c}, ${vol}]`, (b, i, out) => b.channelMoments(i(0), out, n, c, vol),
               [randoms(n * c * vol, 2, 5)]);
  }
});

s('channelAffine: with and without ReLU and residual', async () => {
  if (!available) return;
  for (const [n, c, vol] of channelShapes) {
    const size = n * c * vol;
    const inputs = [randoms(size), randoms(c, -2, 2), randoms(c), randoms(size)];
    for (const relu of [false, true]) {
      for (const residual of [false, true]) {
        await same(size, FWD, `channelAffine [${n}, ${c}, ${vol}] relu ${relu} residual ${residual}`,
                   (b, i, out) => b.channelAffine(i(0), i(1), i(2), residual ? i(3) : null, out, n, c, vol, relu), inputs);
      }
    }
  }
});

s('channelAffineBackward and channelAffineBackwardInput: per-channel sums and the input gradient', async () => {
  if (!available) return;
  for (const [n, c, vol] of channelShapes) {
    const size = n * c * vol;
    const inputs = [randoms(size), randoms(size), randoms(c, -2, 2), randoms(c), randoms(c), randoms(c)];
    for (const relu of [false, true]) {
      const what = `[${n}, ${c}, ${vol}] relu ${relu}`;
      await same(2 * c, FWD, `channelAffineBackward sums ${what}`,
                 (b, i, out) => b.channelAffineBackward(i(0), i(1), i(2), i(3), out, n, c, vol, relu), inputs);
      await same(size, FWD, `channelAffineBackwardInput ${what}`,
                 (b, i, out) => b.channelAffineBackwardInput(i(0), i(1), i(2), i(3), i(4), i(5), out, n, c, vol, relu), inputs);
    }
  }
});

// Channel counts 1/3/4/8/13, batch 1 and 3, volumes of 4k voxels and not: between them every
// conv3d.wgsl mode meets both its vec4 and its scalar loads (checked below).
const vecCases: [string, ConvGeometry][] = [
  ['3³ pad 1, 4→8, 4³, batch 3', geometry(3, 4, 8, [4, 4, 4], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
  ['3³ pad 1, 3→13, 3×5×3', geometry(1, 3, 13, [3, 5, 3], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
  ['3³ pad 1, 1→4, 8³, batch 3 (split-K)', geometry(3, 1, 4, [8, 8, 8], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1])],
  ['1³, 8→4, 4×2×2, batch 3', geometry(3, 8, 4, [4, 2, 2], [1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1])],
  ['1³, 13→1, 3³', geometry(1, 13, 1, [3, 3, 3], [1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1])],
  ['1³, 1→3, 4×4×3', geometry(1, 1, 3, [4, 4, 3], [1, 1, 1], [1, 1, 1], [0, 0, 0], [1, 1, 1])],
  ['2³ stride 2, 4→8, 8×4×4, batch 3', geometry(3, 4, 8, [8, 4, 4], [2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1])],
  ['2³ stride 2, 3→13, 6×6×2', geometry(1, 3, 13, [6, 6, 2], [2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1])],
  ['2³ stride 2 with leftover voxels, 13→4, 7×5×5, batch 3', geometry(3, 13, 4, [7, 5, 5], [2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1])],
];

s('conv3d: vec4 and scalar loads in every mode, bias epilogue on and off', async () => {
  if (!available) return;
  const seen = new Set<string>();
  for (const [what, g] of vecCases) {
    const xs = g.n * g.cin * vol(g.in), ws = g.cout * g.cin * vol(g.kernel), ys = g.n * g.cout * vol(g.out);
    const inputMode = tapsPartitionInput(g) ? 3 : 1;
    for (const mode of [0, inputMode, 2] as const) {
      const v = convVec(mode, g);
      seen.add(`${mode}:A${v.A_VEC}`).add(`${mode}:B${v.B_VEC}`);
    }
    const x = randoms(xs), w = randoms(ws), dy = randoms(ys);
    await same(ys, FWD, `${what}: forward`, (b, i, out) => b.conv3d(i(0), i(1), out, g), [x, w]);
    await same(ys, FWD, `${what}: forward + bias`, (b, i, out) => b.conv3d(i(0), i(1), out, g, i(2)), [x, w, randoms(g.cout)]);
    await same(xs, FWD, `${what}: input gradient`, (b, i, out) => b.conv3dBackwardInput(i(0), i(1), out, g), [dy, w]);
    await same(xs, FWD, `${what}: transposed conv + bias`, (b, i, out) => b.conv3dBackwardInput(i(0), i(1), out, g, i(2)),
               [dy, w, randoms(g.cin)]);
    await same(ws, GRAD, `${what}: weight gradient`, (b, i, out) => b.conv3dBackwardWeight(i(0), i(1), out, g), [x, dy]);
  }
  assert.equal([...seen].sort(), ['0:A0', '0:A1', '0:B0', '0:B1', '1:A0', '1:A1', '1:B0',
                                  '2:A0', '2:A1', '2:B0', '2:B2', '3:A0', '3:A2', '3:B0', '3:B1'], 'every load variant ran');
});

s('conv3d and convTranspose3d with bias: one kernel each, equal to the separate broadcast add', async () => {
  if (!available) return;
  const g = new vg.Generator(9);
  const x = vg.randn([3, 4, 4, 4, 2], g), w = vg.randn([8, 4, 3, 3, 3], g), wt = vg.randn([4, 8, 2, 2, 2], g);
  const wt3 = vg.randn([4, 8, 3, 3, 3], g), b = vg.randn([8], g);
  const cases: [string, (bias?: vg.Tensor) => vg.Tensor][] = [
    ['conv3d 3³ pad 1', (bias) => vg.conv3d(x, w, bias, { padding: 1 })],
    ['convTranspose3d 2³ stride 2 (by taps)', (bias) => vg.convTranspose3d(x, wt, bias, { stride: 2 })],
    ['convTranspose3d 3³ stride 2 pad 1', (bias) => vg.convTranspose3d(x, wt3, bias, { stride: 2, padding: 1 })],
  ];
  for (const [what, op] of cases) {
    const before = gpu.stats().dispatches;
    const fused = op(b);
    assert.is(gpu.stats().dispatches - before, 1, `${what}: kernels dispatched`);
    const apart = vg.add(op(), vg.reshape(b, [1, 8, 1, 1, 1]));
    // The epilogue adds the same float32 bias to the same float32 sum: bit for bit the same.
    assert.equal(await fused.data(), await apart.data(), what);
    fused.dispose();
    apart.dispose();
  }
  for (const t of [x, w, wt, wt3, b]) t.dispose();
});

s("'auto' takes webgpu only on a hardware adapter", () => {
  if (!available) return;
  const script = "import * as vg from 'voxgrad'; console.log(await vg.setBackend('auto')); vg.disposeBackends();";
  const chosen = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' })
    .trim().split('\n').pop();
  if (gpu.software) assert.is.not(chosen, 'webgpu', `auto chose webgpu on ${gpu.adapterName}`);
  else assert.is(chosen, 'webgpu');
});

s("'auto' skips a software webgpu already started in this process", async () => {
  if (!available) return;
  const chosen = await vg.setBackend('auto');
  await vg.setBackend('webgpu');
  if (gpu.software) assert.is.not(chosen, 'webgpu', 'auto reused the SwiftShader backend');
  else assert.is(chosen, 'webgpu');
});

s('a tensor beyond maxStorageBufferBindingSize is refused, naming the limit', () => {
  if (!available) return;
  assert.throws(() => vg.zeros([2 ** 31]), /maxStorageBufferBindingSize/);
});

s.run();

const loop = suite('webgpu buffer pool');
loop('1000 training steps create no GPU buffers after warm-up', async () => {
  if (!available) return;
  const g = new vg.Generator(5);
  const w = vg.randn([3, 2, 3, 3, 3], g, 0, 0.3), bias = vg.zeros([3]);
  const params = [w, bias];
  for (const p of params) p.requiresGrad = true;
  const x = vg.randn([1, 2, 4, 4, 4], g), target = vg.randn([1, 3, 4, 4, 4], g);
  const step = () => vg.scope(() => {
    const loss = vg.mse(vg.relu(vg.conv3d(x, w, bias, { padding: 1 })), target);
    loss.backward();
    vg.noGrad(() => {
      for (const p of params) {
        p.assign(vg.sub(p, vg.mul(p.grad!, 0.05)));
        p.grad!.dispose();
        p.grad = null;
      }
    });
    return vg.detach(loss);
  });
  let first = 0, last = 0, buffersAt10 = 0;
  for (let i = 0; i < 1000; i++) {
    const loss = step();
    if (i === 0) first = await loss.item();
    if (i === 999) last = await loss.item();
    loss.dispose();
    if (i === 10) buffersAt10 = gpu.gpuBuffers();
  }
  console.log(`\n  GPU buffers after 10 steps: ${buffersAt10}, after 1000: ${gpu.gpuBuffers()}; loss ${first} -> ${last}; ${JSON.stringify(gpu.stats())}`);
  assert.is(gpu.gpuBuffers(), buffersAt10, 'GPU buffers (in use + pooled) after step 1000 vs step 10');
  assert.ok(last < first, `training should lower the loss (${first} -> ${last})`);
  for (const t of [w, bias, x, target]) t.dispose();
});
loop.after(() => vg.disposeBackends());
loop.run();
