// The forward passes of the networks in training: the student's, and the teacher's under input
// noise and MC dropout (train mode, no gradient), which give the consistency targets and the
// uncertainty of docs/method.md §4.
import { noGrad } from '../../engine/autograd.ts';
import { keep, scope } from '../../engine/memory.ts';
import { tensor } from '../../engine/ops/create.ts';
import { add, div } from '../../engine/ops/elementwise.ts';
import { concat, slice } from '../../engine/ops/shape.ts';
import { softmax } from '../../engine/ops/softmax.ts';
import type { Tensor } from '../../engine/tensor.ts';
import type { VNet, VNetOutput } from '../../nn/vnet.ts';
import type { Draws } from '../draws.ts';
import { predictiveEntropy } from '../losses.ts';

/** The channels of the V-Net's two Dropout3d layers: the bottleneck x5 and the last features x9. */
export function dropoutChannels(net: VNet): [number, number] {
  return [16 * net.config.nFilters, net.config.nFilters];
}

/** One forward with the iteration's dropout masks (train mode). */
export function forwardWithDraws(net: VNet, x: Tensor, draws: Draws): VNetOutput {
  return net.forward(x, { dropoutMasks: draws.dropoutMasks(x.shape[0], dropoutChannels(net)) });
}

function withNoise(x: Tensor, draws: Draws): Tensor {
  return add(x, tensor(draws.inputNoise(x.size), x.shape, x.backend));
}

export interface TeacherOutput {
  /** Softmax of the segmentation logits. */
  p: Tensor;
  /** The SDM head's output, when the teacher has one. */
  d?: Tensor;
}

/** The consistency target: one teacher pass on x + ξ (noise drawn before the masks, as the reference). */
export function teacherTarget(teacher: VNet, x: Tensor, draws: Draws): TeacherOutput {
  return noGrad(() => scope(() => {
    const noisy = withNoise(x, draws);
    const out = forwardWithDraws(teacher, noisy, draws);
    return { p: softmax(out.seg, 1), d: out.sdm };
  }));
}

/**
 * Predictive entropy of `passes` teacher predictions per volume, as UA-MT computes it: the batch
 * is repeated twice and run passes/2 times with fresh noise and masks; the mean of the softmaxes
 * gives u = −Σ p̄·ln(p̄ + 1e-6), [N, 1, D, H, W].
 */
export function teacherUncertainty(teacher: VNet, x: Tensor, draws: Draws, passes: number): Tensor {
  if (!Number.isInteger(passes) || passes < 2 || passes % 2) {
    throw new Error(`voxgrad: uncertainty passes must be an even number ≥ 2, got ${passes}`);
  }
  const n = x.shape[0];
  return noGrad(() => scope(() => {
    const doubled = concat([x, x], 0);
    let total: Tensor | null = null;
    for (let k = 0; k < passes / 2; k++) {
      const next: Tensor = scope(() => {
        const p = softmax(forwardWithDraws(teacher, withNoise(doubled, draws), draws).seg, 1);
        const pair = add(slice(p, [[0, n]]), slice(p, [[n, 2 * n]]));
        return total ? add(total, pair) : pair;
      });
      total?.dispose();
      total = keep(next);
    }
    const pMean = div(total!, passes);
    total!.dispose();
    return predictiveEntropy(pMean);
  }));
}
