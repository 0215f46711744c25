// A network scored on labelled cases as the papers score them: sliding-window prediction, then
// medpy's Dice, Jaccard, 95HD, ASD and ASSD per case and their means. One convention for every
// caller (evaluate, the demo, the experiments): medpy has no surface distance for an empty mask, so
// an empty prediction counts the volume's diagonal as each distance, the worst the volume allows,
// and cannot flatter the mean as leaving the case out would. Scores are at the scan's resolution
// whatever resolution the model ran at (predictScan).
import type { VNet } from '../nn/vnet.ts';
import type { Volume } from '../io/volume.ts';
import { caseMetrics, type CaseMetrics } from '../metrics/medpy.ts';
import type { Spacing } from '../metrics/surface-distance.ts';
import { predictScan, type PredictOptions, type ScanOptions } from './predict.ts';

export const METRIC_KEYS = ['dice', 'jaccard', 'hd95', 'asd', 'assd'] as const;

export interface CaseScore extends CaseMetrics { id: string; empty: boolean }
export interface Scores { perCase: CaseScore[]; mean: CaseMetrics; empty: number }

/** The image as stored (not yet normalised) and its binary label on the same grid. */
export interface LabelledCase { id: string; image: Volume; label: ArrayLike<number> }

export function scoreCase(id: string, prediction: Uint8Array, label: ArrayLike<number>, shape: readonly number[], spacing?: Spacing): CaseScore {
  if (prediction.some((v) => v > 0)) return { id, empty: false, ...caseMetrics(prediction, label, shape, spacing) };
  const diagonal = Math.hypot(...shape.map((n, i) => n * (spacing?.[i] ?? 1)));
  return { id, empty: true, dice: 0, jaccard: 0, hd95: diagonal, asd: diagonal, assd: diagonal };
}

export function summarize(perCase: CaseScore[]): Scores {
  const mean = Object.fromEntries(METRIC_KEYS.map((k) => [k, perCase.reduce((s, r) => s + r[k], 0) / perCase.length])) as unknown as CaseMetrics;
  return { perCase, mean, empty: perCase.filter((r) => r.empty).length };
}

/** Cases come one at a time from `next`, so a dataset need not sit in memory whole. */
export async function scoreCases(net: VNet, ids: readonly string[], next: (id: string) => Promise<LabelledCase>,
                                 window: ScanOptions & { spacing?: Spacing },
                                 hooks: { progress?: (i: number, id: string) => PredictOptions['onProgress']; scored?: (row: CaseScore) => void } = {}): Promise<Scores> {
  const perCase: CaseScore[] = [];
  for (const [i, id] of ids.entries()) {
    const c = await next(id);
    const pred = await predictScan(net, c.image, { ...window, onProgress: hooks.progress?.(i, id) });
    const row = scoreCase(c.id, pred.label, c.label, c.image.shape, window.spacing);
    perCase.push(row);
    hooks.scored?.(row);
  }
  return summarize(perCase);
}
