// UG-MCL (Zhang et al., arXiv 2112.02508), the paper's Eq. 7 on the dual-task V-Net:
//   L = L_sup + λ_i(t)·L_itc + λ_c(t)·L_ctc
//   L_sup = L_ce + L_dice + L_dis on the labelled samples,
//   L_itc = β·masked ‖f_seg − f′_seg‖² + (1 − β)·masked ‖f_dis − f′_dis‖² (Eq. 4) under the
//           teacher's entropy mask 1(u < thr(t)), over the whole batch,
//   L_ctc = ‖f_seg − σ(−1500·f_dis)‖² (Eq. 6), unmasked, over the whole batch.
// The official code's variant (spec §3.6) is `variant: 'code'`: weights 0.5, L_dis as Dice on
// σ(−1500·d), the SDM part of L_itc off and its seg part halved twice (0.5 and its 2Σm normaliser).
import { ones } from '../../engine/ops/create.ts';
import { add, lt, mul } from '../../engine/ops/elementwise.ts';
import { mse } from '../../engine/ops/loss.ts';
import { mean } from '../../engine/ops/reduce.ts';
import { slice } from '../../engine/ops/shape.ts';
import { softmax } from '../../engine/ops/softmax.ts';
import { crossTaskConsistency, diceLoss, maskedConsistency, sdmToMask } from '../losses.ts';
import { consistencyWeight, uncertaintyThreshold, type ConsistencySchedule } from '../schedules.ts';
import { dropoutChannels, teacherTarget, teacherUncertainty } from '../teacher/passes.ts';
import type { Method, StepContext, StepLoss, TrainBatch } from './method.ts';
import { asChannel, foreground, segmentationTerms } from './segmentation-terms.ts';

export interface UgmclOptions {
  /** 'paper' (the default) or 'code': the official repository's loss weights and L_dis. */
  variant: 'paper' | 'code';
  /** β: the seg part's share of L_itc (0.75 in the paper's Table 2). */
  beta: number;
  /** L_dis: 'mse' to the normalised SDF target (the paper's regression, as DTC), 'dice' on σ(−1500·d). */
  dis: 'mse' | 'dice';
  /** Factor on L_sup's three terms (paper 1, code 0.5). */
  supWeight: number;
  /** Factor on L_itc (paper 1, code 0.25 = its 0.5 times its per-channel normaliser). */
  itcScale: number;
  /** false keeps every voxel in L_itc (the ablation without the uncertainty mask). */
  mask: boolean;
  /** 'ramp' from ¾·ln 2 to ln 2 (the paper), or 'fixed' at ln 2. */
  threshold: 'ramp' | 'fixed';
  /** false drops L_ctc (the ablation without cross-task consistency). */
  crossTask: boolean;
  /** Teacher passes for the uncertainty (T = 8). */
  passes: number;
}

export const UGMCL_PAPER: UgmclOptions = {
  variant: 'paper', beta: 0.75, dis: 'mse', supWeight: 1, itcScale: 1, mask: true, threshold: 'ramp', crossTask: true, passes: 8,
};
export const UGMCL_CODE: Partial<UgmclOptions> = { variant: 'code', beta: 1, dis: 'dice', supWeight: 0.5, itcScale: 0.25 };

export class Ugmcl implements Method {
  readonly name = 'ugmcl';
  readonly teacher = true;
  readonly unlabeled = true;
  readonly sdf: boolean;

  constructor(readonly opts: UgmclOptions, readonly consistency: ConsistencySchedule, readonly maxIterations: number) {
    this.sdf = opts.dis === 'mse';
  }

  schedule(t: number) {
    return { lambda: consistencyWeight(t, this.consistency), threshold: this.threshold(t) };
  }

  private threshold(t: number): number {
    return this.opts.threshold === 'fixed' ? Math.LN2 : uncertaintyThreshold(t, this.maxIterations);
  }

  loss({ t, student, teacher, draws }: StepContext, batch: TrainBatch): StepLoss {
    const o = this.opts, nL = batch.nLabeled, x = batch.image;
    // The student's masks are drawn first, as the reference does, but its forward runs after the teacher's
    // passes, so that their activations never sit on top of the student's graph (same draws, same order).
    const studentMasks = draws.dropoutMasks(x.shape[0], dropoutChannels(student));
    const target = teacherTarget(teacher!, x, draws);
    const u = teacherUncertainty(teacher!, x, draws, o.passes);
    const out = student.forward(x, { dropoutMasks: studentMasks });
    const z = out.seg, d = out.sdm!;
    const p = softmax(z, 1);
    const m = o.mask ? lt(u, this.threshold(t)) : ones(u.shape, u.backend);

    const { ce, dice } = segmentationTerms(z, p, batch.label, nL);
    const dL = foreground(slice(d, [[0, nL]]));
    const dis = o.dis === 'mse' ? mse(dL, asChannel(batch.sdf!)) : diceLoss(sdmToMask(dL), asChannel(batch.label));
    const sup = mul(add(add(ce, dice), dis), o.supWeight);

    const itcSeg = maskedConsistency(p, target.p, m);
    const itcSdm = maskedConsistency(d, target.d!, m);
    const itc = mul(add(mul(itcSeg, o.beta), mul(itcSdm, 1 - o.beta)), o.itcScale);
    const ctc = crossTaskConsistency(p, d);

    const lambda = consistencyWeight(t, this.consistency);
    const consistency = o.crossTask ? add(itc, ctc) : itc;
    const loss = add(sup, mul(consistency, lambda));
    return { loss, terms: { ce, dice, dis, sup, itc_seg: itcSeg, itc_sdm: itcSdm, itc, ctc, mask: mean(m) } };
  }
}
