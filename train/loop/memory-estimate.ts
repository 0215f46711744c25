// Whether one training iteration of a configuration fits a backend with a hard memory bound (wasm32's
// 4 GiB), answered before any case is loaded: the method's own loss and backward run on two small
// synthetic patches with throwaway networks, and the peak bytes, linear in the patch's voxels (every
// activation is channels × voxels at its stage), are extrapolated to the configured patch.
import { formatGiB } from '../../engine/memory-meter.ts';
import type { Backend } from '../../engine/backend.ts';
import { scope } from '../../engine/memory.ts';
import { withBackend } from '../../engine/registry.ts';
import { tensor } from '../../engine/ops/create.ts';
import { Generator } from '../../engine/random.ts';
import { GeneratorDraws } from '../draws.ts';
import type { Method } from '../methods/method.ts';
import type { Shape3, TrainConfig } from './config.ts';
import { createNetworks } from './networks.ts';

/**
 * Held bytes beyond the extrapolation's, for what small probes cannot show (larger kernel scratch,
 * gaps in the heap): the line gave 2.75 GiB for configs/la-16.json, measured 3.09 in use, 3.26 held.
 */
export const ESTIMATE_MARGIN = 1.2;
/** Small enough to take seconds, large enough that the deepest stage keeps 8 voxels per sample. */
const PROBES: Shape3[] = [[32, 32, 32], [64, 32, 32]];

export interface MemoryEstimate {
  /** Estimated peak bytes of one iteration at the configured patch. */
  bytes: number;
  limit: number;
}

const voxels = (p: Shape3) => p[0] * p[1] * p[2];
/**
 * Peak bytes (beyond those before) of one iteration of `method` at `patch` on synthetic data, the
 * optimiser's momentum included: in use, or held (a GPU's pooled buffers count: the device keeps them).
 */
export function measureIterationPeak(config: TrainConfig, method: Method, patch: Shape3, backend: Backend,
                                     held: 'live' | 'reserved' = 'live'): number {
  const before = backend.memory();
  backend.resetMemoryPeaks();
  const { student, teacher } = createNetworks(config, method.teacher);
  const g = new Generator(0);
  const nLabeled = config.batch.labeled, n = nLabeled + (method.unlabeled ? config.batch.unlabeled : 0);
  const vol = voxels(patch);
  try {
    scope(() => {
      const image = tensor(Float32Array.from({ length: n * vol }, () => g.normal()), [n, 1, ...patch], backend);
      const label = tensor(Float32Array.from({ length: nLabeled * vol }, (_, i) => i % 3 === 0 ? 1 : 0), [nLabeled, ...patch], backend);
      const sdf = method.sdf ? tensor(new Float32Array(nLabeled * vol).fill(0.5), [nLabeled, ...patch], backend) : undefined;
      const step = method.loss({ t: 0, student, teacher, draws: new GeneratorDraws(g, config.noise) },
                               { image, label, sdf, nLabeled });
      step.loss.backward();
    });
    // the optimiser's momentum, one more copy of the weights, comes on top in a real run
    const weights = student.parameters().reduce((s, p) => s + 4 * p.size, 0);
    const after = backend.memory();
    return (held === 'live' ? after.peakLive - before.live : after.peakReserved - before.reserved) + weights;
  } finally {
    student.dispose();
    teacher?.dispose();
  }
}

export interface PeakExtrapolation {
  probes: { patch: Shape3; bytes: number }[];
  /** Peak bytes in use at the configured patch, margin not included. */
  bytes: number;
}

/** The probes' peaks and the straight line through them, at the configured patch. */
export function extrapolatePeak(config: TrainConfig, method: Method, backend: Backend): PeakExtrapolation {
  const probes = PROBES.map((patch) => ({ patch, bytes: measureIterationPeak(config, method, patch, backend) }));
  const [small, large] = probes;
  const perVoxel = (large.bytes - small.bytes) / (voxels(large.patch) - voxels(small.patch));
  return { probes, bytes: small.bytes + perVoxel * (voxels(config.patch) - voxels(small.patch)) };
}

/** The estimate for the configured patch, or null on a backend without a bound. */
export function estimateIterationMemory(config: TrainConfig, method: Method, backend: Backend): MemoryEstimate | null {
  if (backend.memoryLimit === undefined) return null;
  return { bytes: ESTIMATE_MARGIN * extrapolatePeak(config, method, backend).bytes, limit: backend.memoryLimit };
}

/** Refuses a configuration whose iteration would not fit, naming the estimate and the limit. */
export function checkIterationMemory(config: TrainConfig, method: Method, backend: Backend): MemoryEstimate | null {
  const e = estimateIterationMemory(config, method, backend);
  if (e && e.bytes > e.limit) {
    throw new Error(`${config.file}: one ${config.method} iteration at patch ${config.patch.join('×')}, batch ` +
                    `${config.batch.labeled}+${method.unlabeled ? config.batch.unlabeled : 0}, ${config.model.nFilters} filters ` +
                    `needs about ${formatGiB(e.bytes)} on ${backend.name}, above its limit of ${formatGiB(e.limit)}; ` +
                    'lower the patch, the batch or nFilters, or train on webgpu');
  }
  return e;
}

export interface GpuMemory {
  /** GPU buffer bytes one iteration at the configured patch holds at its peak, momentum included. */
  bytes: number;
  largestBuffer: number;
  /** The largest binding as asked for (largestBuffer less the pool's rounding up): what must fit bufferLimit. */
  largestBinding: number;
  /** The adapter's largest binding. */
  bufferLimit: number;
  /** What the user allows (--gpu-memory), if anything. */
  budget?: number;
}

/**
 * One iteration at the configured patch itself on the backend's accountant (the same buffers, pooled
 * and freed the same way, no kernel run), so nothing is extrapolated; refused when a buffer exceeds
 * what the adapter binds (maxStorageBufferBindingSize: 128 MiB by default, 256 MiB or more on most
 * GPUs) or the peak exceeds the budget. Null on a backend without an accountant.
 */
export async function checkGpuMemory(config: TrainConfig, method: Method, backend: Backend, budget?: number): Promise<GpuMemory | null> {
  if (!backend.accountant || backend.bufferLimit === undefined) return null;
  const accountant = await backend.accountant();
  let m: GpuMemory;
  try {
    const bytes = withBackend(accountant, () => measureIterationPeak(config, method, config.patch, accountant, 'reserved'));
    m = { bytes, largestBuffer: accountant.largestBuffer!(), largestBinding: accountant.largestBinding!(), bufferLimit: backend.bufferLimit, budget };
  } finally {
    accountant.dispose?.();
  }
  const what = `${config.file}: one ${config.method} iteration at patch ${config.patch.join('×')}, batch ` +
               `${config.batch.labeled}+${method.unlabeled ? config.batch.unlabeled : 0}, ${config.model.nFilters} filters`;
  const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB (${b} bytes)`;
  // Every tensor is bound whole, and the batches cannot be split to fit: the teacher's passes run
  // batch norm in train mode, whose statistics over the whole (doubled) batch a split would change.
  if (m.largestBinding > m.bufferLimit) {
    throw new Error(`${what} needs a buffer of ${MiB(m.largestBinding)} on ${backend.name}, above this adapter's largest binding ` +
                    `of ${MiB(m.bufferLimit)}; lower the patch or the batch`);
  }
  if (budget !== undefined && m.bytes > budget) {
    throw new Error(`${what} holds about ${formatGiB(m.bytes)} of GPU buffers, above the --gpu-memory budget of ${formatGiB(budget)}; ` +
                    'lower the patch, the batch or nFilters, or raise the budget');
  }
  return m;
}
