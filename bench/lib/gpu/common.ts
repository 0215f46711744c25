// What every phase of the GPU diagnostic (bench/gpu-diag.ts) shares: its settings (full, or --smoke's
// tiny shapes on a software adapter), the phase files it writes, and timing by waiting once for
// several recorded calls.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stat, type Stat } from '../stats.ts';
import type { Triple } from '../vnet-layers.ts';

export const PHASES = ['environment', 'correctness', 'ceilings', 'layers', 'ablations', 'steps'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface Settings {
  smoke: boolean;
  out: string;
  /** PyTorch's device: cuda on the GPU machine, cpu in the smoke run. */
  torchDevice: string;
  /** Timed samples per figure (medians of them) and calls recorded per wait for the device. */
  samples: number; perWait: number;
  /** The ceilings' GEMM size and the copy's bytes. */
  gemmSize: number; copyBytes: number;
  /** Phase 4's patch and batch; phase 6's patches and V-Net width (16 as trained). */
  layerPatch: Triple; layerBatch: number; stepPatches: Triple[]; stepFilters: number;
}

export function settings(smoke: boolean, out: string, torchDevice: string): Settings {
  return smoke
    // SwiftShader on a shared CPU takes seconds per layer: the least that still runs every path
    ? { smoke, out, torchDevice, samples: 3, perWait: 1, gemmSize: 256, copyBytes: 4 << 20,
        layerPatch: [16, 16, 16], layerBatch: 1, stepPatches: [[16, 16, 16]], stepFilters: 4 }
    : { smoke, out, torchDevice, samples: 5, perWait: 3, gemmSize: 8192, copyBytes: 256 << 20,
        layerPatch: [112, 112, 80], layerBatch: 4, stepPatches: [[32, 48, 32], [112, 112, 80]], stepFilters: 16 };
}

export const phaseFile = (out: string, phase: PhaseName) => join(out, `phase-${PHASES.indexOf(phase) + 1}-${phase}.json`);

export function writePhase(s: Settings, phase: PhaseName, body: Record<string, unknown>) {
  mkdirSync(s.out, { recursive: true });
  const json = { phase, mode: s.smoke ? 'smoke: tiny shapes on a software adapter and CPU torch, not GPU figures' : 'full',
                 finished: new Date().toISOString(), ...body };
  writeFileSync(phaseFile(s.out, phase), `${JSON.stringify(json, null, 1)}\n`);
}

/** An earlier phase's JSON from the same output folder, or null where it did not finish. */
export function readPhase<T = Record<string, unknown>>(out: string, phase: PhaseName): T | null {
  const f = phaseFile(out, phase);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) as T : null;
}

/**
 * Seconds per call: one untimed warm-up call and wait, then `samples` times `perWait` calls recorded
 * and one wait, each sample the mean of its calls. Waiting once per few calls keeps the submit-and-
 * wait round trip (tens of microseconds) out of what a kernel costs.
 */
export async function timePerCall(call: () => void, wait: () => Promise<void>, samples: number, perWait: number): Promise<Stat> {
  call();
  await wait();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    for (let j = 0; j < perWait; j++) call();
    await wait();
    times.push((performance.now() - t0) / 1000 / perWait);
  }
  return stat(times);
}

export const tflops = (flop: number, seconds: number) => flop / seconds / 1e12;
