// Mean Teacher (Tarvainen & Valpola 2017) and UA-MT (Yu et al. 2019) as UA-MT's LA code trains
// them (docs/method.md §3): L = 0.5·(L_ce + L_dice) on the labelled half + λ(t)·L_c on the unlabelled
// half, where the teacher sees only the unlabelled volumes plus noise. MT's L_c is the mean squared
// difference of the softmaxes; UA-MT's keeps the voxels whose entropy over T teacher passes is under
// thr(t), normalised per channel as its code does (Σm·(p − p′)² / (C·Σm)).
import { add, div, lt, mul } from '../../engine/ops/elementwise.ts';
import { mse } from '../../engine/ops/loss.ts';
import { mean } from '../../engine/ops/reduce.ts';
import { slice } from '../../engine/ops/shape.ts';
import { softmax } from '../../engine/ops/softmax.ts';
import type { Tensor } from '../../engine/tensor.ts';
import { maskedConsistency } from '../losses.ts';
import { consistencyWeight, uncertaintyThreshold, type ConsistencySchedule } from '../schedules.ts';
import { forwardWithDraws, teacherTarget, teacherUncertainty } from '../teacher/passes.ts';
import type { Method, StepContext, StepLoss, TrainBatch } from './method.ts';
import { segmentationTerms } from './segmentation-terms.ts';

export interface MeanTeacherOptions {
  /** Factor on L_ce + L_dice (0.5 in UA-MT's code). */
  supWeight: number;
  /** Teacher passes for UA-MT's uncertainty (T = 8). */
  passes: number;
}

export const MEAN_TEACHER_DEFAULTS: MeanTeacherOptions = { supWeight: 0.5, passes: 8 };

export class MeanTeacher implements Method {
  readonly teacher = true;
  readonly unlabeled = true;
  readonly sdf = false;

  constructor(readonly name: 'mt' | 'uamt', readonly opts: MeanTeacherOptions, readonly consistency: ConsistencySchedule,
              readonly maxIterations: number) {}

  schedule(t: number): Record<string, number> {
    const lambda = consistencyWeight(t, this.consistency);
    return this.name === 'uamt' ? { lambda, threshold: uncertaintyThreshold(t, this.maxIterations) } : { lambda };
  }

  loss({ t, student, teacher, draws }: StepContext, batch: TrainBatch): StepLoss {
    const nL = batch.nLabeled, n = batch.image.shape[0];
    const z = forwardWithDraws(student, batch.image, draws).seg;
    const p = softmax(z, 1);
    const { ce, dice } = segmentationTerms(z, p, batch.label, nL);
    const xU = slice(batch.image, [[nL, n]]);
    const pU = slice(p, [[nL, n]]);
    const target = teacherTarget(teacher!, xU, draws);
    const terms: Record<string, Tensor> = { ce, dice };
    if (this.name === 'uamt') {
      const m = lt(teacherUncertainty(teacher!, xU, draws, this.opts.passes), uncertaintyThreshold(t, this.maxIterations));
      terms.consistency = div(maskedConsistency(pU, target.p, m), p.shape[1]);
      terms.mask = mean(m);
    } else {
      terms.consistency = mse(pU, target.p);
    }
    const loss = add(mul(add(ce, dice), this.opts.supWeight), mul(terms.consistency, consistencyWeight(t, this.consistency)));
    return { loss, terms };
  }
}
