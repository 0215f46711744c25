// Phase 2: is it right on this hardware? NaN through ReLU, max and argmax (the subgroup argmax where
// the device has subgroups, and the plain tree beside it); long sums (K = 2^16) of a matmul and of a
// weight gradient against float64, beside what a plain float32 running sum loses, to see whether
// gemm_core.wgsl's compensation survives the driver's compiler; a small V-Net's forward and backward
// against the ref backend.
import * as vg from '../../../index.ts';
import type { Backend, ConvGeometry } from '../../../engine/backend.ts';
import type { WebGPUBackend } from '../../../engine/backends/webgpu/backend.ts';
import type { Settings } from './common.ts';

const same = (a: number, b: number) => Object.is(a, b) || (a === 0 && b === 0);

/** torch.relu passes NaN and maps everything ≤ 0 to 0. */
async function reluProbe() {
  const input = [NaN, -Infinity, -1, -0, 0, 2, Infinity], expected = [NaN, 0, 0, 0, 0, 2, Infinity];
  const got = [...await vg.relu(vg.tensor(Float32Array.from({ length: 7 * 300 }, (_, i) => input[i % 7]))).data()];
  const bad = got.flatMap((v, i) => (same(v, expected[i % 7]) ? [] : [`relu(${input[i % 7]}) = ${v}`]));
  return { pass: bad.length === 0, expected: expected.map(String), got: got.slice(0, 7).map(String), mismatches: bad.slice(0, 5) };
}

/**
 * max and argmax over rows with NaNs, against the ref backend's answer on the same values (the GPU
 * must agree with it); `torchSemantics` says whether that answer is also PyTorch's (NaN, and the
 * index of the first NaN). Short rows go one thread per output (reduce_rows.wgsl), long ones through
 * the tree, with subgroups where enabled.
 */
async function reduceProbe(length: number, subgroups: boolean) {
  const rows = 3, nanAt = [Math.floor(length / 3), -1, length - 1];
  const values = new Float32Array(rows * length);
  for (let r = 0; r < rows; r++) for (let i = 0; i < length; i++) values[r * length + i] = Math.sin(i * 0.37 + r) * 100;
  const peak = Math.floor(length * 0.7);
  values[1 * length + peak] = 1000;
  for (const [r, i] of nanAt.entries()) if (i >= 0) values[r * length + i] = NaN;
  values[2 * length + 1] = NaN; // two NaNs: the first one's index
  const run = async (backend: string) => {
    await vg.setBackend(backend);
    const x = vg.tensor(values, [rows, length]);
    const out = { max: [...await vg.max(x, 1).data()], argmax: [...await vg.argmax(x, 1).data()] };
    x.dispose();
    return out;
  };
  const ref = await run('ref');
  await vg.setBackend('webgpu');
  const gpu = vg.getBackend() as WebGPUBackend;
  const before = gpu.subgroupReduce, useSubgroups = subgroups && gpu.features.includes('subgroups');
  gpu.subgroupReduce = useSubgroups;
  const got = await run('webgpu');
  gpu.subgroupReduce = before;
  const torch = { max: [NaN, 1000, NaN], argmax: [nanAt[0], peak, 1] };
  const equal = (a: { max: number[]; argmax: number[] }, b: typeof a) =>
    a.max.every((v, i) => same(v, b.max[i])) && a.argmax.every((v, i) => v === b.argmax[i]);
  return {
    length, path: length <= 64 ? 'rows' : useSubgroups ? 'tree + subgroups' : 'tree',
    pass: equal(got, ref), torchSemantics: equal(ref, torch),
    max: { ref: ref.max.map(String), got: got.max.map(String), torch: torch.max.map(String) },
    argmax: { ref: ref.argmax, got: got.argmax, torch: torch.argmax },
  };
}

const EPS = 2 ** -24;
function errors(got: Float32Array, truth: Float64Array, naive: Float64Array) {
  let scale = 0, ours = 0, plain = 0;
  for (let i = 0; i < truth.length; i++) {
    scale = Math.max(scale, Math.abs(truth[i]));
    ours = Math.max(ours, Math.abs(got[i] - truth[i]));
    plain = Math.max(plain, Math.abs(naive[i] - truth[i]));
  }
  const rel = ours / scale, plainRel = plain / scale;
  // compensated: well below what one running float32 sum of the same products loses
  return { relError: rel, relErrorUlps: rel / EPS, plainFloat32RelError: plainRel, plainFloat32Ulps: plainRel / EPS,
           compensated: rel < plainRel / 8 };
}

const uniform = (n: number, seed: number) => {
  const g = new vg.Generator(seed);
  return Float32Array.from({ length: n }, () => g.uniform());
};

/** [M, K]·[K, N] with K = 2^16 of values in [0, 1): every product adds, so a plain sum's error grows with K. */
async function longMatmul(b: Backend) {
  const m = 4, n = 4, k = 1 << 16;
  const A = uniform(m * k, 1), B = uniform(k * n, 2);
  const [a, bb, c] = [A, B, new Float32Array(m * n)].map((v) => { const buf = b.alloc(v.length); b.write(buf, v); return buf; });
  b.matmul(a, bb, c, 1, m, k, n, false, false);
  const got = await b.read(c);
  const truth = new Float64Array(m * n), naive = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let t = 0, s = 0;
    for (let q = 0; q < k; q++) { const p = A[i * k + q] * B[q * n + j]; t += p; s = Math.fround(s + Math.fround(p)); }
    truth[i * n + j] = t; naive[i * n + j] = s;
  }
  for (const buf of [a, bb, c]) b.free(buf);
  return { m, n, k, ...errors(got, truth, naive) };
}

/** The weight gradient of a 3×3×3 conv over 64×32×32 voxels: K = 2^16 per weight, split-K on the GPU. */
async function longWeightGrad(b: Backend) {
  const d: [number, number, number] = [64, 32, 32], c = 4, vox = d[0] * d[1] * d[2];
  const g: ConvGeometry = { n: 1, cin: c, cout: c, in: d, out: d, kernel: [3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [1, 1, 1] };
  const X = uniform(c * vox, 3), DY = uniform(c * vox, 4);
  const [x, dy, dw] = [X, DY, new Float32Array(c * c * 27)].map((v) => { const buf = b.alloc(v.length); b.write(buf, v); return buf; });
  b.conv3dBackwardWeight(x, dy, dw, g);
  const got = await b.read(dw);
  const truth = new Float64Array(c * c * 27), naive = new Float64Array(c * c * 27);
  for (let co = 0; co < c; co++) for (let ci = 0; ci < c; ci++) for (let t = 0; t < 27; t++) {
    const [a, bb, cc] = [Math.floor(t / 9) - 1, Math.floor(t / 3) % 3 - 1, (t % 3) - 1];
    let sum = 0, s = 0;
    for (let z = 0; z < d[0]; z++) {
      const zi = z + a;
      if (zi < 0 || zi >= d[0]) continue;
      for (let y = 0; y < d[1]; y++) {
        const yi = y + bb;
        if (yi < 0 || yi >= d[1]) continue;
        for (let xq = 0; xq < d[2]; xq++) {
          const xi = xq + cc;
          if (xi < 0 || xi >= d[2]) continue;
          const p = DY[co * vox + (z * d[1] + y) * d[2] + xq] * X[ci * vox + (zi * d[1] + yi) * d[2] + xi];
          sum += p; s = Math.fround(s + Math.fround(p));
        }
      }
    }
    truth[(co * c + ci) * 27 + t] = sum; naive[(co * c + ci) * 27 + t] = s;
  }
  const plan = (b as WebGPUBackend).convPlan?.('weightGrad', g);
  for (const buf of [x, dy, dw]) b.free(buf);
  return { geometry: `[${c}, ${d.join('×')}] k3 p1`, k: vox, splits: plan?.splits, kSplit: plan?.kSplit, ...errors(got, truth, naive) };
}

/** A small V-Net (eval mode: no dropout, batch norm by running statistics) on one backend: outputs and gradients. */
async function vnetPass(backend: string, patch: [number, number, number]) {
  await vg.setBackend(backend);
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 4, normalization: 'batchnorm', hasDropout: true, heads: 'seg+sdm', seed: 0 });
  net.eval();
  const gen = new vg.Generator(0);
  const x = vg.randn([1, 1, ...patch], gen);
  const y = vg.tensor(Float32Array.from({ length: patch[0] * patch[1] * patch[2] }, () => +(gen.uniform() > 0.5)), [1, ...patch]);
  const out: Record<string, Float32Array> = {};
  const seg = vg.scope(() => {
    const r = net.forward(x, { dropout: false });
    vg.add(vg.crossEntropy(r.seg, y), vg.mean(vg.square(r.sdm!))).backward();
    return vg.keep(vg.detach(r.seg));
  });
  out.seg = await seg.data();
  for (const [name, p] of net.namedParameters()) if (p.grad) out[`grad ${name}`] = await p.grad.data();
  for (const t of [seg, x, y]) t.dispose();
  net.dispose();
  return out;
}

async function vnetParity(patch: [number, number, number]) {
  const t0 = performance.now();
  const ref = await vnetPass('ref', patch);
  const gpu = await vnetPass('webgpu', patch);
  const worst = { forward: 0, gradient: 0, gradientName: '' };
  for (const [name, r] of Object.entries(ref)) {
    const g = gpu[name];
    let scale = 0, diff = 0;
    for (let i = 0; i < r.length; i++) { scale = Math.max(scale, Math.abs(r[i])); diff = Math.max(diff, Math.abs(g[i] - r[i])); }
    const e = scale ? diff / scale : diff;
    if (name === 'seg') worst.forward = e;
    else if (!(e <= worst.gradient)) { worst.gradient = e; worst.gradientName = name; }
  }
  // the webgpu bars of test/vnet.test.ts
  return { patch, filters: 4, mode: 'eval (running statistics, no dropout)', tensors: Object.keys(ref).length,
           forwardError: worst.forward, gradientError: worst.gradient, worstGradient: worst.gradientName,
           pass: worst.forward <= 1e-4 && worst.gradient <= 1e-3, seconds: (performance.now() - t0) / 1000 };
}

export async function correctness(s: Settings) {
  await vg.setBackend('webgpu');
  const b = vg.getBackend();
  const relu = await reluProbe();
  const reductions = [await reduceProbe(40, true), await reduceProbe(50000, false), await reduceProbe(50000, true)];
  const matmul = await longMatmul(b);
  const weightGrad = await longWeightGrad(b);
  const vnet = await vnetParity([16, 16, 16]);
  const pass = relu.pass && reductions.every((r) => r.pass) && matmul.compensated && weightGrad.compensated && vnet.pass;
  return { pass, relu, reductions, longK: { matmul, weightGrad }, vnet };
}
