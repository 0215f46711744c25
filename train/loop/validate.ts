// Validation during training: the student in eval mode over held-out cases by sliding window,
// scored by Dice (medpy's dc); the student goes back to train mode afterwards.
import type { VNet } from '../../nn/vnet.ts';
import { predictVolume } from '../../infer/predict.ts';
import { dice } from '../../metrics/overlap.ts';
import type { TrainCase } from './batches.ts';
import type { Shape3 } from './config.ts';

export interface ValidationResult {
  dice: number;
  perCase: { id: string; dice: number }[];
}

export async function validate(net: VNet, cases: TrainCase[], patch: Shape3, stride: Shape3): Promise<ValidationResult> {
  const perCase: { id: string; dice: number }[] = [];
  try {
    for (const c of cases) {
      const pred = await predictVolume(net, { data: c.image, shape: c.shape }, { patch, stride, batch: 2 });
      perCase.push({ id: c.id, dice: dice(pred.label, c.label) });
    }
  } finally {
    net.train();
  }
  return { dice: perCase.reduce((s, r) => s + r.dice, 0) / Math.max(perCase.length, 1), perCase };
}
