// conv3d forward, input gradient and weight gradient, and the transposed convolution, at the V-Net's
// layer shapes on a voxgrad backend, beside PyTorch (bench/torch_conv.py) and tfjs (backend-cpu and
// backend-wasm) in the same run. Each round times every layer ours, then PyTorch's, so that both meet
// the same load; the figures are medians with their range over all rounds.
import type * as TF from '@tensorflow/tfjs-core';
import * as vg from '../../index.ts';
import type { Backend, BackendBuffer, ConvGeometry } from '../../engine/backend.ts';
import { openAnchor, type AnchorOptions } from './anchor.ts';
import { stat, timeSamples, type Stat } from './stats.ts';
import { geometry, layerFlop, type Layer, type Triple } from './vnet-layers.ts';

export const PASSES = ['fwd', 'dx', 'dw'] as const;
export type Pass = (typeof PASSES)[number];
type Primitive = 'conv' | 'backInput' | 'backWeight';
/** Which conv3d primitive each pass is: a transposed convolution's forward is its twin's input gradient. */
export const primitiveOf = (l: Layer): Record<Pass, Primitive> =>
  l.transposed ? { fwd: 'backInput', dx: 'conv', dw: 'backWeight' } : { fwd: 'conv', dx: 'backInput', dw: 'backWeight' };

export interface ConvRow {
  layer: string; flop: number;
  ours: Record<Pass, Stat>;
  torch?: Record<Pass, Stat>;
  tfjsCpu?: Record<Pass, Stat>;
  tfjsWasm?: Record<Pass, Stat>;
}

const vol = (d: Triple) => d[0] * d[1] * d[2];
const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/**
 * Seconds of `reps` samples of each pass on a voxgrad backend (the current one): a sample records
 * `perWait` calls and waits for the device once (a GPU's submit-and-wait costs about as much as a small
 * layer), and is their mean.
 */
async function ourSamples(b: Backend, l: Layer, reps: number, perWait = 1): Promise<Record<Pass, number[]>> {
  const g = geometry(l);
  const sizes = [g.n * g.cin * vol(g.in), g.cout * g.cin * vol(g.kernel), g.n * g.cout * vol(g.out)];
  const [x, w, y, dx, dw, dy] = [...sizes, ...sizes].map((s) => b.alloc(s));
  for (const [buf, n] of [[x, sizes[0]], [w, sizes[1]], [dy, sizes[2]]] as [BackendBuffer, number][]) b.write(buf, random(n));
  const settle = async () => { if ('sync' in b) await (b as Backend & { sync(): Promise<void> }).sync(); };
  const run: Record<Primitive, () => void> = {
    conv: () => b.conv3d(x, w, y, g), backInput: () => b.conv3dBackwardInput(dy, w, dx, g), backWeight: () => b.conv3dBackwardWeight(x, dy, dw, g),
  };
  const prim = primitiveOf(l), out = {} as Record<Pass, number[]>;
  for (const p of PASSES) {
    const samples = await timeSamples(async () => { for (let i = 0; i < perWait; i++) run[prim[p]](); await settle(); }, reps);
    out[p] = samples.map((s) => s / perWait);
  }
  for (const buf of [x, w, y, dx, dw, dy]) b.free(buf);
  return out;
}

/** The same three primitives on a tfjs backend (NDHWC layout, filters [kD, kH, kW, in, out]). */
async function tfjsSamples(tf: typeof TF, l: Layer, reps: number): Promise<Record<Pass, number[]>> {
  const g: ConvGeometry = geometry(l);
  const pad = g.padding[0] === 0 ? 'valid' : 'same'; // the bench's layers: k3 p1 s1 ("same") or p0
  const x = tf.randomNormal([g.n, ...g.in, g.cin]) as TF.Tensor5D;
  const w = tf.randomNormal([...g.kernel, g.cin, g.cout]) as TF.Tensor5D;
  const dy = tf.randomNormal([g.n, ...g.out, g.cout]) as TF.Tensor5D;
  const strides = g.stride;
  // the kernels themselves (tfjs-core's node bundle registers no gradients)
  const run: Record<Primitive, () => TF.Tensor> = {
    conv: () => tf.conv3d(x, w, strides, pad),
    backInput: () => tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter: w }, { strides, pad, inputShape: x.shape }) as TF.Tensor,
    backWeight: () => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides, pad, filterShape: w.shape }) as TF.Tensor,
  };
  const prim = primitiveOf(l), out = {} as Record<Pass, number[]>;
  for (const p of PASSES) {
    out[p] = await timeSamples(async () => { const r = run[prim[p]](); await r.data(); r.dispose(); }, reps, false);
  }
  tf.dispose([x, w, dy]);
  return out;
}

async function loadTfjs(threads: number) {
  // loaded only when timed: in paired runs (k2s2 down-conv forward, one thread), the wasm kernels ran
  // slower with tfjs-core loaded beside them (22–37 against 29–47 GF/s)
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(threads);
  return tf;
}

export interface ConvBenchOptions {
  anchor: AnchorOptions | null;
  layers: Layer[];
  rounds: number;
  reps: number;
  /** Layers also timed on tfjs-backend-cpu and -wasm, with their repetitions (tfjs-cpu takes seconds per op). */
  tfjsLayers: Layer[];
  tfjsReps: number;
  /** Calls recorded per wait for the device in our samples (default 1). */
  perWait?: number;
  /** PyTorch on CUDA times by CUDA events (device time) instead of the wall clock around each call. */
  torchEvents?: boolean;
  log: (line: string) => void;
}

export async function convBench(o: ConvBenchOptions) {
  const b = vg.getBackend();
  const anchor = o.anchor ? await openAnchor('bench/torch_conv.py', o.anchor) : null;
  const ours = o.layers.map(() => ({ fwd: [], dx: [], dw: [] }) as Record<Pass, number[]>);
  const torch = o.layers.map(() => ({ fwd: [], dx: [], dw: [] }) as Record<Pass, number[]>);
  b.resetMemoryPeaks();
  for (let round = 0; round < o.rounds; round++) {
    for (const [i, l] of o.layers.entries()) {
      const mine = await ourSamples(b, l, o.reps, o.perWait);
      const theirs = anchor ? await anchor.ask<Record<Pass, number[]>>({ op: 'conv', layer: l, reps: o.reps, events: o.torchEvents ?? false }) : null;
      for (const p of PASSES) { ours[i][p].push(...mine[p]); if (theirs) torch[i][p].push(...theirs[p]); }
    }
    o.log(`conv: round ${round + 1}/${o.rounds} of ${o.layers.length} layers done`);
  }
  const oursPeak = b.memory().peakReserved;
  const torchPeak = anchor ? await anchor.close() : undefined;
  const tfjs: Partial<Record<'tfjsCpu' | 'tfjsWasm', Map<string, Record<Pass, Stat>>>> = {};
  const failures: string[] = [];
  if (o.tfjsLayers.length) {
    const tf = await loadTfjs(o.anchor?.threads ?? 1);
    for (const [key, name] of [['tfjsCpu', 'cpu'], ['tfjsWasm', 'wasm']] as const) {
      await tf.setBackend(name);
      const rows = new Map<string, Record<Pass, Stat>>();
      for (const l of o.tfjsLayers) {
        try {
          const s = await tfjsSamples(tf, l, o.tfjsReps);
          rows.set(l.name, { fwd: stat(s.fwd), dx: stat(s.dx), dw: stat(s.dw) });
        } catch (e) {
          // a fault inside tfjs is its result, not the end of the run; its heap may be corrupt, so stop there
          failures.push(`tfjs-backend-${name}, ${l.name}: ${(e as Error).message}`);
          o.log(`conv: tfjs-backend-${name} failed at ${l.name}: ${(e as Error).message}`);
          break;
        }
      }
      tfjs[key] = rows;
      o.log(`conv: tfjs-backend-${name} done`);
    }
  }
  const statOf = (s: Record<Pass, number[]>) => ({ fwd: stat(s.fwd), dx: stat(s.dx), dw: stat(s.dw) });
  const rows: ConvRow[] = o.layers.map((l, i) => ({
    layer: l.name, flop: layerFlop(l), ours: statOf(ours[i]),
    ...(anchor ? { torch: statOf(torch[i]) } : {}),
    ...(tfjs.tfjsCpu?.has(l.name) ? { tfjsCpu: tfjs.tfjsCpu.get(l.name) } : {}),
    ...(tfjs.tfjsWasm?.has(l.name) ? { tfjsWasm: tfjs.tfjsWasm.get(l.name) } : {}),
  }));
  return { rows, failures, torch: anchor?.header, memory: { oursPeakReservedBytes: oursPeak, torchPeakBytes: torchPeak } };
}
