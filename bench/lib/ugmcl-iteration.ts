// One UG-MCL training iteration as train/loop/trainer.ts runs it (batch, loss, backward, reading the
// terms, SGD step, EMA update), with each phase's wall time. The teacher and the draws are subclasses
// that note when they are called, so the split of the loss into teacher target, uncertainty passes and
// the rest happens inside the trainer's own Ugmcl.loss, without a second pass. Host times measure the
// work only on synchronous backends (wasm, ref); on webgpu they show dispatch, and the device's work
// lands in "read terms".
import * as vg from '../../index.ts';
import type { Backend } from '../../engine/backend.ts';
import type { Generator } from '../../engine/random.ts';
import type { Tensor } from '../../engine/tensor.ts';
import { VNet, type VNetForwardOptions, type VNetOutput } from '../../nn/vnet.ts';
import { crop } from '../../train/data/augment.ts';
import { GeneratorDraws } from '../../train/draws.ts';
import { makeBatch, type TrainCase } from '../../train/loop/batches.ts';
import { readScalars } from '../../train/loop/step.ts';
import { Ugmcl, UGMCL_PAPER } from '../../train/methods/ugmcl.ts';
import { Sgd } from '../../train/optim/sgd.ts';
import { emaDecay, learningRate } from '../../train/schedules.ts';
import { computeSdf } from '../../train/targets/sdf.ts';
import { updateEma } from '../../train/teacher/ema.ts';
import type { Triple } from './vnet-layers.ts';

export const LABELED = 2, UNLABELED = 2;
/** The config defaults (train/loop/config.ts) for LA: consistency ramp, step LR, 6000 iterations. */
const CONSISTENCY = { weight: 0.1, rampup: 40, every: 150 };
const LR = { base: 0.01, step: 2500, gamma: 0.1 };
const MAX_ITERATIONS = 6000;

export const PHASES = ['batch (crop + SDF)', 'student forward + loss terms', 'teacher target', 'uncertainty passes',
                       'backward', 'read terms', 'SGD step', 'EMA update'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Volumes larger than the patch by 8 voxels per axis, square in the rotated plane so no crop pads;
 * the label an ellipsoid with half the volume's extent (6.5% foreground). The PyTorch side builds
 * the same shapes.
 */
export function caseShape(patch: Triple): Triple {
  const m = Math.max(patch[0], patch[1]) + 8;
  return [m, m, patch[2] + 8];
}

function syntheticCases(patch: Triple, g: Generator): TrainCase[] {
  const shape = caseShape(patch), n = shape[0] * shape[1] * shape[2];
  return Array.from({ length: LABELED + UNLABELED }, (_, c) => {
    const image = Float32Array.from({ length: n }, () => g.normal());
    const label = new Uint8Array(n);
    for (let i = 0, v = 0; i < shape[0]; i++)
      for (let j = 0; j < shape[1]; j++)
        for (let k = 0; k < shape[2]; k++, v++) {
          const r = [i, j, k].reduce((s, q, a) => s + ((q - shape[a] / 2) / (shape[a] / 4)) ** 2, 0);
          label[v] = Number(r <= 1);
        }
    return { id: `synthetic-${c}`, image, label, shape };
  });
}

/** The EMA teacher, noting when each of its forwards ends. */
class TimedVNet extends VNet {
  lastForwardEnd = 0;
  onForwardEnd?: () => void;
  forward(x: Tensor, opts?: VNetForwardOptions): VNetOutput {
    const out = super.forward(x, opts);
    this.lastForwardEnd = performance.now();
    this.onForwardEnd?.();
    return out;
  }
}

/**
 * The backend's high-water marks per phase: each mark closes the stretch since the last one, files
 * its peak under the phase that was running, and starts the next stretch at the current bytes.
 */
class PhaseMemory {
  readonly peaks: Partial<Record<Phase, { live: number; reserved: number }>> = {};
  private current: Phase | null = null;
  constructor(private readonly backend: Backend) {}

  mark(next: Phase | null) {
    if (this.current) {
      const m = this.backend.memory(), p = this.peaks[this.current];
      this.peaks[this.current] = { live: Math.max(p?.live ?? 0, m.peakLive), reserved: Math.max(p?.reserved ?? 0, m.peakReserved) };
    }
    this.backend.resetMemoryPeaks();
    this.current = next;
  }
}

/** The trainer's draws, noting when each teacher input noise is drawn and the time spent drawing in JS. */
class TimedDraws extends GeneratorDraws {
  noiseStarts: number[] = [];
  drawMs = 0;
  /** Called with the draw's number in this iteration (1: the target pass, then the uncertainty passes). */
  onNoise?: (n: number) => void;
  dropoutMasks(n: number, channels: readonly [number, number]): [Float32Array, Float32Array] {
    const t0 = performance.now();
    const masks = super.dropoutMasks(n, channels);
    this.drawMs += performance.now() - t0;
    return masks;
  }
  inputNoise(count: number): Float32Array {
    const t0 = performance.now();
    this.noiseStarts.push(t0);
    this.onNoise?.(this.noiseStarts.length);
    const noise = super.inputNoise(count);
    this.drawMs += performance.now() - t0;
    return noise;
  }
}

export interface IterationTimes {
  seconds: number;
  phases: Record<Phase, number>;
  /** Per phase, the most bytes in use (live) and held (reserved) at any moment of it. */
  memory: Record<Phase, { live: number; reserved: number }>;
  /** Of the teacher phases and the student's forward: JS time drawing noise and dropout masks. */
  drawSeconds: number;
}

function time<T>(phases: Partial<Record<Phase, number>>, memory: PhaseMemory, phase: Phase, f: () => T): T {
  const t0 = performance.now();
  memory.mark(phase);
  const out = f();
  phases[phase] = (performance.now() - t0) / 1000;
  return out;
}

export interface UgmclIterationOptions { patch: Triple; filters: number }

/** Student, teacher, optimiser and data of a UG-MCL run (paper variant), on the current backend. */
export function ugmclIteration({ patch, filters }: UgmclIterationOptions) {
  const net = { nChannels: 1, nClasses: 2, nFilters: filters, normalization: 'batchnorm' as const, hasDropout: true,
                heads: 'seg+sdm' as const };
  const student = new VNet({ ...net, seed: 0 });
  const teacher = new TimedVNet({ ...net, seed: 1 });
  const sgd = new Sgd(student.namedParameters(), { momentum: 0.9, weightDecay: 1e-4 });
  const method = new Ugmcl(UGMCL_PAPER, CONSISTENCY, MAX_ITERATIONS);
  const dataGenerator = new vg.Generator(1), draws = new TimedDraws(new vg.Generator(2), { std: 0.1, clip: 0.2 });
  const cases = syntheticCases(patch, dataGenerator);
  const indices = cases.map((_, i) => i);
  const backend = vg.getBackend();
  let t = 0;
  let memory = new PhaseMemory(backend);
  // inside the loss: the teacher's passes start at their noise draws; the student's work resumes after each
  draws.onNoise = (n) => memory.mark(n === 1 ? 'teacher target' : 'uncertainty passes');
  teacher.onForwardEnd = () => memory.mark('student forward + loss terms');

  return {
    async run(): Promise<IterationTimes> {
      const phases: Partial<Record<Phase, number>> = {};
      draws.noiseStarts = [];
      draws.drawMs = 0;
      memory = new PhaseMemory(backend);
      const t0 = performance.now();
      student.zeroGrad();
      const terms = vg.scope(() => {
        const batch = time(phases, memory, 'batch (crop + SDF)', () =>
          makeBatch(cases, indices, LABELED, patch, dataGenerator, method.sdf, backend));
        const step = time(phases, memory, 'student forward + loss terms', () => method.loss({ t, student, teacher, draws }, batch));
        time(phases, memory, 'backward', () => step.loss.backward());
        return { loss: step.loss, ...step.terms };
      });
      const r0 = performance.now();
      memory.mark('read terms');
      await readScalars(terms);
      phases['read terms'] = (performance.now() - r0) / 1000;
      time(phases, memory, 'SGD step', () => sgd.step(learningRate(t, LR)));
      time(phases, memory, 'EMA update', () => updateEma(teacher, student, emaDecay(t)));
      memory.mark(null);
      const seconds = (performance.now() - t0) / 1000;
      // The target pass starts at the first noise draw, the uncertainty passes at the second and end
      // with the last teacher forward; their last softmax, mean and entropy stay with the loss terms.
      const [target, passes] = draws.noiseStarts;
      phases['teacher target'] = (passes - target) / 1000;
      phases['uncertainty passes'] = (teacher.lastForwardEnd - passes) / 1000;
      phases['student forward + loss terms']! -= phases['teacher target'] + phases['uncertainty passes'];
      t++;
      return { seconds, phases: phases as Record<Phase, number>, drawSeconds: draws.drawMs / 1000,
               memory: memory.peaks as Record<Phase, { live: number; reserved: number }> };
    },

    /** computeSdf of the labelled cases' central patches, timed apart: its share of the batch phase. */
    sdfSeconds(): number {
      const centre = (c: TrainCase) => c.shape.map((s, a) => (s - patch[a]) >> 1) as Triple;
      const labels = cases.slice(0, LABELED).map((c) => crop(c.label, c.shape, patch, centre(c)).data);
      const t0 = performance.now();
      for (const l of labels) computeSdf(l, patch);
      return (performance.now() - t0) / 1000;
    },

    dispose() {
      student.dispose();
      teacher.dispose();
      sgd.dispose();
    },
  };
}

