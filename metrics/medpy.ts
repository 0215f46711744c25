// The four numbers the papers report (medpy's dc, jc, hd95, asd) plus medpy 0.5's assd, from one
// pair of EDTs. Argument order is medpy's: (result = prediction, reference = label); asd is the
// directed mean d(result→reference), as UA-MT/DTC/DTML call it.
import { dice, jaccard } from './overlap.ts';
import { surfaceDistances, type Spacing } from './surface-distance.ts';
import { percentile } from './percentile.ts';

export interface CaseMetrics { dice: number; jaccard: number; hd95: number; asd: number; assd: number }

const mean = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a); out.set(b, a.length);
  return out;
}

export function hd95(result: ArrayLike<number>, reference: ArrayLike<number>, shape: readonly number[], spacing?: Spacing): number {
  return percentile(concat(...surfaceDistances(result, reference, shape, spacing)), 95);
}

export function asd(result: ArrayLike<number>, reference: ArrayLike<number>, shape: readonly number[], spacing?: Spacing): number {
  return mean(surfaceDistances(result, reference, shape, spacing)[0]);
}

/** medpy 0.5: the mean of both directions' distances pooled (not the mean of the two means). */
export function assd(result: ArrayLike<number>, reference: ArrayLike<number>, shape: readonly number[], spacing?: Spacing): number {
  return mean(concat(...surfaceDistances(result, reference, shape, spacing)));
}

export function caseMetrics(result: ArrayLike<number>, reference: ArrayLike<number>, shape: readonly number[], spacing?: Spacing): CaseMetrics {
  const [ab, ba] = surfaceDistances(result, reference, shape, spacing);
  const both = concat(ab, ba);
  return { dice: dice(result, reference), jaccard: jaccard(result, reference), hd95: percentile(both, 95), asd: mean(ab), assd: mean(both) };
}
