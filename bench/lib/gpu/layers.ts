// Phase 4: every V-Net layer's forward, input gradient and weight gradient, ours beside cuDNN's (bench/
// lib/conv-bench.ts and bench/torch_conv.py, PyTorch timed by CUDA events, TF32 off, cuDNN's autotune
// in its warm-up), with the GEMM each pass runs as (WebGPUBackend.convPlan) and its rate against
// cuDNN's and against phase 3's SGEMM ceilings.
import { availableParallelism } from 'node:os';
import * as vg from '../../../index.ts';
import type { ConvPass, WebGPUBackend } from '../../../engine/backends/webgpu/backend.ts';
import { convBench, PASSES, primitiveOf } from '../conv-bench.ts';
import { geometry, vnetLayers, type Layer } from '../vnet-layers.ts';
import { readPhase, tflops, type Settings } from './common.ts';

export const planPass = { conv: 'forward', backInput: 'inputGrad', backWeight: 'weightGrad' } as const satisfies Record<string, ConvPass>;

export const phaseLayers = (s: Settings): Layer[] => vnetLayers(s.layerPatch, '', true).map((l) => ({ ...l, n: s.layerBatch }));

export interface Ceilings { torch?: { tflops?: number }; plainWgsl?: { tflops: number }; oursMatmul?: { tflops: number } }

export async function layers(s: Settings) {
  await vg.setBackend('webgpu');
  const gpu = vg.getBackend() as WebGPUBackend;
  const list = phaseLayers(s);
  const r = await convBench({ anchor: { threads: availableParallelism(), device: s.torchDevice, tf32: false }, layers: list, rounds: 1,
                              reps: s.samples, perWait: s.perWait, torchEvents: true, tfjsLayers: [], tfjsReps: 0, log: () => {} });
  const ceil = readPhase<Ceilings>(s.out, 'ceilings');
  const sgemm = ceil?.torch?.tflops, plain = ceil?.plainWgsl?.tflops;
  const rows = r.rows.flatMap((row, i) => PASSES.map((pass) => {
    const prim = primitiveOf(list[i])[pass];
    const plan = gpu.convPlan(planPass[prim], geometry(list[i]));
    const ours = row.ours[pass], torch = row.torch?.[pass];
    const oursRate = tflops(row.flop, ours.median), torchRate = torch ? tflops(row.flop, torch.median) : undefined;
    return {
      layer: row.layer, pass, primitive: planPass[prim], gflop: row.flop / 1e9,
      plan: { route: plan.route, m: plan.m, n: plan.n, k: plan.k, batch: plan.batch, tile: plan.tile, vec: plan.vec, splits: plan.splits },
      ours, torch, oursTflops: oursRate, torchTflops: torchRate,
      ratioToCudnn: torch ? torch.median / ours.median : undefined,
      ofSgemmCeiling: sgemm ? oursRate / sgemm : undefined, ofPlainWgsl: plain ? oursRate / plain : undefined,
    };
  }));
  return {
    patch: s.layerPatch, batch: s.layerBatch, torch: r.torch,
    timing: `ours: wall clock, ${s.perWait} calls recorded per wait, median of ${s.samples}; PyTorch: CUDA events (wall clock on the CPU), median of ${s.samples}`,
    ceilings: { sgemmTflops: sgemm ?? null, plainWgslTflops: plain ?? null },
    memory: r.memory, rows,
  };
}
