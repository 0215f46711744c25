// One training iteration as every method takes it: the method's loss and its backward, a check
// that the loss is finite before anything changes, the SGD step at lr(t), the EMA update.
import { noGrad } from '../../engine/autograd.ts';
import { scope } from '../../engine/memory.ts';
import { add } from '../../engine/ops/elementwise.ts';
import { concat, reshape } from '../../engine/ops/shape.ts';
import type { Tensor } from '../../engine/tensor.ts';
import type { VNet } from '../../nn/vnet.ts';
import type { Draws } from '../draws.ts';
import type { Method, TrainBatch } from '../methods/method.ts';
import type { Sgd } from '../optim/sgd.ts';
import { updateEma } from '../teacher/ema.ts';

export interface StepParts {
  method: Method;
  student: VNet;
  teacher: VNet | null;
  sgd: Sgd;
  draws: Draws;
  /**
   * Keep a copy of the networks' buffers (batch-norm running statistics, which the forward pass
   * moves) to put back if the loss is not finite, so that a skipped step leaves no trace.
   */
  restoreBuffers?: boolean;
}

export class NonFiniteLossError extends Error {
  constructor(message: string, readonly values: Record<string, number>) {
    super(message);
  }
}

/**
 * Runs iteration t on the batch `makeBatch` builds (inside the step's scope, so its tensors are
 * freed with the graph) and returns the loss and every term as numbers. A non-finite loss throws
 * before the update, leaving the weights, the teacher and the optimiser as they were.
 */
export async function trainingStep(p: StepParts, t: number, lr: number, emaAlpha: number,
                                   makeBatch: () => TrainBatch): Promise<Record<string, number>> {
  p.student.zeroGrad();
  const buffers = p.restoreBuffers ? [p.student, ...(p.teacher ? [p.teacher] : [])].flatMap((m) => m.namedBuffers()) : [];
  const saved = noGrad(() => buffers.map(([, b]) => add(b, 0)));
  const terms = scope(() => {
    const step = p.method.loss({ t, student: p.student, teacher: p.teacher, draws: p.draws }, makeBatch());
    step.loss.backward();
    return { loss: step.loss, ...step.terms };
  });
  const values = await readScalars(terms);
  const finite = Number.isFinite(values.loss);
  noGrad(() => buffers.forEach(([, b], i) => {
    if (!finite) b.assign(saved[i]);
    saved[i].dispose();
  }));
  if (!finite) {
    p.student.zeroGrad();
    const list = Object.entries(values).map(([k, x]) => `${k} ${x}`).join(', ');
    throw new NonFiniteLossError(`iteration ${t}: the loss is ${values.loss} (${list}); stopped before the update`, values);
  }
  p.sgd.step(lr);
  if (p.teacher) updateEma(p.teacher, p.student, emaAlpha);
  return values;
}

/**
 * The one-element terms as numbers, in one read-back (on webgpu one round trip to the GPU, not one per
 * term): they are copied side by side first, which moves their bits unchanged. Disposes the terms.
 */
export async function readScalars(terms: Record<string, Tensor>): Promise<Record<string, number>> {
  const names = Object.keys(terms);
  const all = scope(() => noGrad(() => concat(names.map((k) => reshape(terms[k], [1])), 0)));
  const values = await all.data();
  all.dispose();
  for (const t of Object.values(terms)) t.dispose();
  return Object.fromEntries(names.map((k, i) => [k, values[i]]));
}
