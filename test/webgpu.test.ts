// What is the WebGPU backend's own (its primitives against ref run in test/conformance.test.ts): the
// adapter, the vec4/scalar load variants its conformance cases meet, fused bias epilogues, 'auto',
// device limits, and its buffer pool over 1000 training steps. Without an adapter the suite is
// reported and skipped, except under CI=true, where it fails.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { tapsPartitionInput, type WebGPUBackend } from '../engine/backends/webgpu/backend.ts';
import { convVec, matmulVec } from '../engine/backends/webgpu/gemm-vec.ts';
import { useBackend } from './helpers/backends.ts';
import { matmulVecShapes, webgpuVecConvCases } from './helpers/conformance-cases.ts';
import { repoRoot } from './helpers/fixtures.ts';
import { readScalars } from '../train/loop/step.ts';
import { execFileSync } from 'node:child_process';

let gpu: WebGPUBackend;

const s = suite('webgpu');
let available = false;
s.before(async () => {
  available = await useBackend('webgpu');
  if (available) gpu = vg.getBackend() as WebGPUBackend;
});

s('adapter', () => {
  if (!available) return;
  console.log(`\n  webgpu adapter: ${gpu.adapterName}${gpu.software ? ' [software]' : ''}; features: ${gpu.features.join(', ') || 'none'}`);
});

s('matmul: the vec4 matmul cases meet vec4 and scalar staging of each operand in each layout', () => {
  const seen = new Set<string>();
  for (const [, m, k, n] of matmulVecShapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const v = matmulVec(m, k, n, transA, transB);
        seen.add(`A${v.A_VEC}`).add(`B${v.B_VEC}`);
      }
    }
  }
  assert.equal([...seen].sort(), ['A0', 'A1', 'A2', 'B0', 'B1', 'B2'], 'every load variant ran');
});

s('conv3d: the vec4 conv cases meet vec4 and scalar loads in every mode', () => {
  const seen = new Set<string>();
  for (const { g } of webgpuVecConvCases) {
    for (const mode of [0, tapsPartitionInput(g) ? 3 : 1, 2] as const) {
      const v = convVec(mode, g);
      seen.add(`${mode}:A${v.A_VEC}`).add(`${mode}:B${v.B_VEC}`);
    }
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

s('kernels are submitted every few dozen while recording, before anything is read', async () => {
  if (!available) return;
  const before = gpu.stats();
  const y = vg.scope(() => {
    let t = vg.zeros([4]);
    for (let i = 0; i < 200; i++) t = vg.add(t, 1);
    return t;
  });
  const mid = gpu.stats();
  assert.is(mid.readbacks, before.readbacks);
  assert.ok(mid.submits - before.submits >= 3, `200 kernels, ${mid.submits - before.submits} submits before the read`);
  assert.equal([...await y.data()], [200, 200, 200, 200]);
  y.dispose();
});

s('readScalars: every term in one read-back, the values item() gives', async () => {
  if (!available) return;
  const make = () => vg.scope(() => {
    const g = new vg.Generator(3);
    return { a: vg.mean(vg.randn([7], g)), b: vg.div(vg.ones([]), 3), c: vg.sum(vg.randn([2, 3], g)) };
  });
  const reads = gpu.stats().readbacks;
  const values = await readScalars(make());
  assert.is(gpu.stats().readbacks - reads, 1, 'read-backs');
  const apart = make();
  for (const [k, t] of Object.entries(apart)) {
    assert.is(Object.is(values[k], await t.item()), true, k);
    t.dispose();
  }
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
  let first = 0, last = 0, buffersAt10 = 0, bindGroupsAt100 = 0;
  for (let i = 0; i < 1000; i++) {
    const loss = step();
    if (i === 0) first = await loss.item();
    if (i === 999) last = await loss.item();
    loss.dispose();
    if (i === 10) buffersAt10 = gpu.gpuBuffers();
    // the parameters' buffers swap at each assign, so the sets of buffers take a few steps to recur
    if (i === 100) bindGroupsAt100 = gpu.stats().bindGroups;
  }
  console.log(`\n  GPU buffers after 10 steps: ${buffersAt10}, after 1000: ${gpu.gpuBuffers()}; bind groups after 100 steps: ` +
              `${bindGroupsAt100}; loss ${first} -> ${last}; ${JSON.stringify(gpu.stats())}`);
  assert.is(gpu.gpuBuffers(), buffersAt10, 'GPU buffers (in use + pooled) after step 1000 vs step 10');
  assert.is(gpu.stats().bindGroups, bindGroupsAt100, 'bind groups created by step 1000 vs step 100: the same buffers, the cached groups');
  assert.ok(last < first, `training should lower the loss (${first} -> ${last})`);
  for (const t of [w, bias, x, target]) t.dispose();
});
loop.after(() => vg.disposeBackends());
loop.run();
