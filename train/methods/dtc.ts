// DTC (Luo et al. 2021) as its LA code trains it (docs/method.md §3), on the two-channel dual head:
// L = L_dice + 0.3·MSE(f_dis, SDF) on the labelled half + λ_d(t)·mean (σ(−1500·f_dis) − f_seg)²
// over the whole batch, with λ_d = 1·r(⌊t/150⌋, 40). No teacher; CE is not part of DTC's loss.
import { add, mul } from '../../engine/ops/elementwise.ts';
import { mse } from '../../engine/ops/loss.ts';
import { slice } from '../../engine/ops/shape.ts';
import { softmax } from '../../engine/ops/softmax.ts';
import { crossTaskConsistency, diceLoss } from '../losses.ts';
import { consistencyWeight, type ConsistencySchedule } from '../schedules.ts';
import { forwardWithDraws } from '../teacher/passes.ts';
import type { Method, StepContext, StepLoss, TrainBatch } from './method.ts';
import { asChannel, foreground } from './segmentation-terms.ts';

export interface DtcOptions {
  /** Weight of the SDF regression (DTC's --beta 0.3). */
  sdfWeight: number;
  /** λ_d's final value (DTC's --consistency 1.0). */
  consistency: number;
}

export const DTC_DEFAULTS: DtcOptions = { sdfWeight: 0.3, consistency: 1 };

export class Dtc implements Method {
  readonly name = 'dtc';
  readonly teacher = false;
  readonly unlabeled = true;
  readonly sdf = true;
  private readonly schedule_: ConsistencySchedule;

  constructor(readonly opts: DtcOptions, consistency: ConsistencySchedule) {
    this.schedule_ = { ...consistency, weight: opts.consistency };
  }

  schedule(t: number) {
    return { lambda: consistencyWeight(t, this.schedule_) };
  }

  loss({ t, student, draws }: StepContext, batch: TrainBatch): StepLoss {
    const nL = batch.nLabeled;
    const out = forwardWithDraws(student, batch.image, draws);
    const p = softmax(out.seg, 1), d = out.sdm!;
    const dice = diceLoss(foreground(slice(p, [[0, nL]])), asChannel(batch.label));
    const sdf = mse(foreground(slice(d, [[0, nL]])), asChannel(batch.sdf!));
    const ctc = crossTaskConsistency(p, d);
    const loss = add(add(dice, mul(sdf, this.opts.sdfWeight)), mul(ctc, consistencyWeight(t, this.schedule_)));
    return { loss, terms: { dice, sdf, ctc } };
  }
}
