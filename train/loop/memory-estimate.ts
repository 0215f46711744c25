// Whether one training iteration of a configuration fits a backend with a hard memory bound (wasm32's
// 4 GiB), answered before any case is loaded: the method's own loss and backward run on two small
// synthetic patches with throwaway networks, and the peak bytes, linear in the patch's voxels (every
// activation is channels × voxels at its stage), are extrapolated to the configured patch.
import { formatGiB } from '../../engine/memory-meter.ts';
import type { Backend } from '../../engine/backend.ts';
import { scope } from '../../engine/memory.ts';
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
 * Peak bytes (beyond what was live before) of one iteration of `method` at `patch` on synthetic data,
 * the optimiser's momentum included.
 */
export function measureIterationPeak(config: TrainConfig, method: Method, patch: Shape3, backend: Backend): number {
  const base = backend.memory().live;
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
    return backend.memory().peakLive - base + weights;
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
