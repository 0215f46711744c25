// conv3d forward, input gradient and weight gradient on the wasm backend at given layer shapes, against
// PyTorch CPU (bench/torch_conv.py) at the same thread count and tfjs-backend-cpu (one thread: it has no
// others; one timed run per layer and op, it is slow). Ours and PyTorch's are timed in turn, layer by
// layer, for a number of rounds, keeping each one's best: on a shared machine whose load drifts over a
// run, a ratio then compares two timings taken under the same load.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type * as TF from '@tensorflow/tfjs-core';
import * as vg from '../../index.ts';
import type { WasmBackend } from '../../engine/backends/wasm/backend.ts';
import { geometry, type Layer, type Triple } from './vnet-layers.ts';

type Times = { name: string; fwd: number; dx: number; dw: number };

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

const vol = (d: Triple) => d[0] * d[1] * d[2];
const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** Our three kernels on the wasm backend, which must be the current one. */
function wasmTimes(wasm: WasmBackend, l: Layer): Times & { flop: number } {
  const g = geometry(l);
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
  return r;
}

/** bench/torch_conv.py as a process that times one layer per request. */
function torchTimer(threads: number) {
  const child = spawn('/usr/bin/python3', ['bench/torch_conv.py', String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async time(l: Layer): Promise<Times> {
      child.stdin.write(`${JSON.stringify(l)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error(`bench/torch_conv.py exited (code ${child.exitCode}) before timing ${l.name}`);
      return JSON.parse(next.value);
    },
    close: () => child.stdin.end(),
  };
}

const best = (a: Times | undefined, b: Times): Times =>
  a ? { ...a, fwd: Math.min(a.fwd, b.fwd), dx: Math.min(a.dx, b.dx), dw: Math.min(a.dw, b.dw) } : b;

/** One timed run of each op on tfjs-backend-cpu (NDHWC layout, filters [kD, kH, kW, in, out]). */
async function tfjsTimes(tf: typeof TF, l: Layer): Promise<Times> {
  const g = geometry(l);
  const pad = l.padding[0] === 0 ? 'valid' : 'same'; // the bench's layers: k3 p1 s1 ("same") or p0
  const x = tf.randomNormal([l.n, ...l.in, l.cin]) as TF.Tensor5D;
  const w = tf.randomNormal([...l.kernel, l.cin, l.cout]) as TF.Tensor5D;
  const dy = tf.randomNormal([l.n, ...g.out, l.cout]) as TF.Tensor5D;
  const stride = l.stride as Triple;
  const time = async (fn: () => TF.Tensor) => {
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
                                               { strides: stride, pad, inputShape: x.shape }) as TF.Tensor),
    dw: await time(() => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy },
                                               { strides: stride, pad, filterShape: w.shape }) as TF.Tensor),
  };
  tf.dispose([x, w, dy]);
  console.error(`tfjs ${l.name} done`);
  return r;
}

export interface ConvBenchOptions {
  threads: number;
  layers: Layer[];
  torch: boolean;
  /** Times each layer is timed (ours, then PyTorch's), keeping the best of each. */
  rounds: number;
  /** Layers also timed on tfjs-backend-cpu (minutes per op at the LA patch, so usually a subset). */
  tfjsLayers: Layer[];
}

/** Runs the layers on wasm (set up with opts.threads), PyTorch and tfjs; prints the table, returns the JSON. */
export async function convBench(opts: ConvBenchOptions) {
  await vg.setWasmThreads(opts.threads);
  await vg.setBackend('wasm');
  const wasm = vg.getBackend() as WasmBackend;
  console.error(`wasm backend: ${wasm.threads} threads, ${wasm.device.relaxed ? 'relaxed' : 'plain'} SIMD`);
  const ours: (Times & { flop: number })[] = [], torch: Times[] | null = opts.torch ? [] : null;
  const timer = opts.torch ? torchTimer(opts.threads) : null;
  for (let round = 0; round < opts.rounds; round++) {
    for (const [i, l] of opts.layers.entries()) {
      ours[i] = best(ours[i], wasmTimes(wasm, l)) as Times & { flop: number };
      if (timer) torch![i] = best(torch![i], await timer.time(l));
      console.error(`round ${round + 1}/${opts.rounds}: ${l.name} done`);
    }
  }
  timer?.close();
  let tfjs: Times[] | null = null;
  if (opts.tfjsLayers.length) {
    // loaded only when timed: in paired runs (k2s2 down-conv forward, one thread), the wasm kernels ran
    // slower with tfjs-core loaded beside them (22–37 against 29–47 GF/s)
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    tfjs = [];
    for (const l of opts.tfjsLayers) tfjs.push(await tfjsTimes(tf, l));
  }

  const gflops = (flop: number, s: number) => flop / s / 1e9;
  const rows = ours.map((o, i) => {
    const t = torch?.[i], j = tfjs?.find((r) => r.name === o.name);
    const row: Record<string, string | number> = { layer: o.name };
    for (const k of ['fwd', 'dx', 'dw'] as const) {
      row[`${k} GF/s`] = +gflops(o.flop, o[k]).toFixed(1);
      if (t) {
        row[`${k} torch`] = +gflops(o.flop, t[k]).toFixed(1);
        row[`${k} ratio`] = +(t[k] / o[k]).toFixed(2);
      }
    }
    if (j) row['tfjs fwd GF/s'] = +gflops(o.flop, j.fwd).toFixed(2);
    if (j) row['× tfjs (all 3)'] = Math.round((j.fwd + j.dx + j.dw) / (o.fwd + o.dx + o.dw));
    return row;
  });
  console.table(rows);
  const total = (k: 'fwd' | 'dx' | 'dw', src: Times[]) => src.reduce((a, r) => a + r[k], 0);
  const ratioOfTotals = torch
    ? Object.fromEntries((['fwd', 'dx', 'dw'] as const).map((k) => [k, +(total(k, torch) / total(k, ours)).toFixed(3)]))
    : null;
  const all3 = (r: Times) => r.fwd + r.dx + r.dw;
  const tfjsTimeOverOurs = tfjs
    ? +(tfjs.reduce((a, r) => a + all3(r), 0) / ours.filter((o) => tfjs!.some((r) => r.name === o.name)).reduce((a, r) => a + all3(r), 0)).toFixed(1)
    : null;
  return { threads: wasm.threads, relaxedSimd: wasm.device.relaxed, layers: ours, torch, tfjs, ratioOfTotals, tfjsTimeOverOurs };
}
