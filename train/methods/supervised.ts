// The supervised baseline: L_seg = L_ce + L_dice on labelled batches only (the paper's Table 1,
// row 1), on the same dual-head V-Net; the SDM head is left untrained.
import { add, mul } from '../../engine/ops/elementwise.ts';
import { softmax } from '../../engine/ops/softmax.ts';
import { forwardWithDraws } from '../teacher/passes.ts';
import type { Method, StepContext, StepLoss, TrainBatch } from './method.ts';
import { segmentationTerms } from './segmentation-terms.ts';

export interface SupervisedOptions {
  /** Factor on L_seg (1; UA-MT's train_LA.py uses 0.5). */
  supWeight: number;
}

export class Supervised implements Method {
  readonly name = 'supervised';
  readonly teacher = false;
  readonly unlabeled = false;
  readonly sdf = false;

  constructor(readonly opts: SupervisedOptions) {}

  schedule() {
    return {};
  }

  loss({ student, draws }: StepContext, batch: TrainBatch): StepLoss {
    const z = forwardWithDraws(student, batch.image, draws).seg;
    const { ce, dice } = segmentationTerms(z, softmax(z, 1), batch.label, batch.nLabeled);
    return { loss: mul(add(ce, dice), this.opts.supWeight), terms: { ce, dice } };
  }
}
