// conv3d forward, input gradient and weight gradient on the wasm backend at the V-Net's layer shapes,
// against PyTorch CPU (bench/torch_conv.py) at the same thread count and tfjs-backend-cpu (one thread:
// it has no others; one timed run per layer and op, it is slow). Prints a table and a JSON line.
//   node build/bench/wasm-conv.js [--threads N] [--la] [--no-torch] [--no-tfjs]
// --la adds the LA patch (112×112×80) layers (not timed on tfjs: minutes per op).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as vg from '../index.ts';
import type { ConvGeometry } from '../engine/backend.ts';
import type { WasmBackend } from '../engine/backends/wasm/backend.ts';

type Triple = [number, number, number];
interface Layer { name: string; n: number; cin: number; cout: number; in: Triple; kernel: Triple; stride: Triple; padding: Triple }

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const threads = Number(args[args.indexOf('--threads') + 1]) || availableParallelism();

const conv = (name: string, n: number, cin: number, cout: number, size: Triple, k: number, s: number, p: number): Layer =>
  ({ name, n, cin, cout, in: size, kernel: [k, k, k], stride: [s, s, s], padding: [p, p, p] });

/**
 * The V-Net (n_filters 16) convolution shapes at a patch, batch 2: the input conv, each level's 3×3×3
 * conv, the two largest k2s2 downsamplings and, optionally, the 1×1×1 head.
 */
function vnetLayers(patch: Triple, prefix: string, head: boolean): Layer[] {
  const at = (level: number) => patch.map((s) => s >> level) as Triple;
  const layers = [conv(`${prefix}in 1→16 @${at(0).join('×')}`, 2, 1, 16, at(0), 3, 1, 1)];
  for (let level = 0; level <= 4; level++) {
    const c = 16 << level;
    layers.push(conv(`${prefix}${c}→${c} @${at(level).join('×')}`, 2, c, c, at(level), 3, 1, 1));
    if (level < 2) layers.push(conv(`${prefix}down ${c}→${2 * c} k2s2`, 2, c, 2 * c, at(level), 2, 2, 0));
  }
  if (head) layers.push(conv(`${prefix}head 16→2 k1`, 2, 16, 2, at(0), 1, 1, 0));
  return layers;
}
const hippocampus = vnetLayers([32, 48, 32], '', true);
const la = vnetLayers([112, 112, 80], 'LA ', false);
const layers = flag('--la') ? [...hippocampus, ...la] : hippocampus;

function geometry(l: Layer): ConvGeometry {
  const out = l.in.map((v, i) => Math.floor((v + 2 * l.padding[i] - l.kernel[i]) / l.stride[i]) + 1) as Triple;
  return { n: l.n, cin: l.cin, cout: l.cout, in: l.in, out, kernel: l.kernel, stride: l.stride, padding: l.padding, dilation: [1, 1, 1] };
}

/** Best of the repetitions: on a shared machine the minimum is the least disturbed run. */
function bestTime(fn: () => void, minTime = 0.3, minReps = 3): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || performance.now() - start < minTime * 1000) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return Math.min(...times);
}

await vg.setWasmThreads(threads);
await vg.setBackend('wasm');
const wasm = vg.getBackend() as WasmBackend;
console.error(`wasm backend: ${wasm.threads} threads, ${wasm.device.relaxed ? 'relaxed' : 'plain'} SIMD`);

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const ours = layers.map((l) => {
  const g = geometry(l);
  const vol = (d: Triple) => d[0] * d[1] * d[2];
  const sizes = [l.n * l.cin * vol(l.in), l.cout * l.cin * vol(l.kernel), l.n * l.cout * vol(g.out)];
  const [x, w, y, dx, dw, dy] = [...sizes, ...sizes].map((s) => wasm.alloc(s));
  wasm.write(x, random(sizes[0])); wasm.write(w, random(sizes[1])); wasm.write(dy, random(sizes[2]));
  const r = {
    name: l.name,
    flop: 2 * l.n * l.cout * vol(g.out) * l.cin * vol(l.kernel),
    fwd: bestTime(() => wasm.conv3d(x, w, y, g)),
    dx: bestTime(() => wasm.conv3dBackwardInput(dy, w, dx, g)),
    dw: bestTime(() => wasm.conv3dBackwardWeight(x, dy, dw, g)),
  };
  for (const b of [x, w, y, dx, dw, dy]) wasm.free(b);
  console.error(`wasm ${l.name} done`);
  return r;
});

type Times = { name: string; fwd: number; dx: number; dw: number };

/** One timed run of each op on tfjs-backend-cpu (NDHWC layout, filters [kD, kH, kW, in, out]). */
async function tfjsTimes(l: Layer): Promise<Times> {
  const g = geometry(l);
  const pad = l.padding[0] === 0 ? 'valid' : 'same'; // the bench's layers: k3 p1 s1 ("same") or p0
  const x = tf.randomNormal([l.n, ...l.in, l.cin]) as tf.Tensor5D;
  const w = tf.randomNormal([...l.kernel, l.cin, l.cout]) as tf.Tensor5D;
  const dy = tf.randomNormal([l.n, ...g.out, l.cout]) as tf.Tensor5D;
  const stride = l.stride as [number, number, number];
  const time = async (fn: () => tf.Tensor) => {
    const t0 = performance.now();
    const out = fn();
    await out.data();
    out.dispose();
    return (performance.now() - t0) / 1000;
  };
  const r = {
    name: l.name,
    fwd: await time(() => tf.conv3d(x, w, stride, pad)),
    // the gradient kernels themselves (tfjs-core's node bundle registers no gradients)
    dx: await time(() => tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter: w },
                                               { strides: stride, pad, inputShape: x.shape }) as tf.Tensor),
    dw: await time(() => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy },
                                               { strides: stride, pad, filterShape: w.shape }) as tf.Tensor),
  };
  tf.dispose([x, w, dy]);
  console.error(`tfjs ${l.name} done`);
  return r;
}
let torch: Times[] | null = null;
if (!flag('--no-torch')) {
  const out = execFileSync('/usr/bin/python3', ['bench/torch_conv.py', String(threads), JSON.stringify(layers)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  torch = JSON.parse(out.trim().split('\n').pop()!);
}

let tfjs: Times[] | null = null;
if (!flag('--no-tfjs')) {
  await tf.setBackend('cpu');
  tfjs = [];
  for (const l of hippocampus) tfjs.push(await tfjsTimes(l));
}

const gflops = (flop: number, s: number) => flop / s / 1e9;
const rows = ours.map((o, i) => {
  const t = torch?.[i];
  const row: Record<string, string | number> = { layer: o.name };
  for (const k of ['fwd', 'dx', 'dw'] as const) {
    row[`${k} GF/s`] = +gflops(o.flop, o[k]).toFixed(1);
    if (t) {
      row[`${k} torch`] = +gflops(o.flop, t[k]).toFixed(1);
      row[`${k} ratio`] = +(t[k] / o[k]).toFixed(2);
    }
  }
  const j = tfjs?.[i];
  if (j) row['tfjs fwd GF/s'] = +gflops(o.flop, j.fwd).toFixed(2);
  if (j) row['× tfjs (all 3)'] = Math.round((j.fwd + j.dx + j.dw) / (o.fwd + o.dx + o.dw));
  return row;
});
console.table(rows);
const total = (k: 'fwd' | 'dx' | 'dw', src: Times[]) => src.reduce((a, r) => a + r[k], 0);
const summary = torch
  ? Object.fromEntries((['fwd', 'dx', 'dw'] as const).map((k) => [k, +(total(k, torch!) / total(k, ours)).toFixed(3)]))
  : null;
const tfjsSpeedup = tfjs
  ? +(tfjs.reduce((a, r) => a + r.fwd + r.dx + r.dw, 0) / ours.slice(0, tfjs.length).reduce((a, r) => a + r.fwd + r.dx + r.dw, 0)).toFixed(1)
  : null;
console.log(JSON.stringify({ threads: wasm.threads, relaxedSimd: wasm.device.relaxed, layers: ours, torch, tfjs,
                             ratioOfTotals: summary, tfjsTimeOverOurs: tfjsSpeedup }));
vg.disposeBackends();
