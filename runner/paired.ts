// Case-by-case comparison of two groups of runs on the same validation cases: one seed's runs
// against each other, or each case's Dice averaged over the seeds both groups finished.
import type { RunResults } from './run.ts';
import { mean, signTestP, wilcoxon } from './stats.ts';

export interface PairedStats {
  /** Mean over cases of a − b. */
  delta: number;
  better: number; worse: number; tied: number;
  signP: number;
  wilcoxonP: number;
  wilcoxonMethod: 'exact' | 'approx';
}

export function pairedStats(a: readonly number[], b: readonly number[]): PairedStats {
  const d = a.map((v, i) => v - b[i]);
  const better = d.filter((v) => v > 0).length, worse = d.filter((v) => v < 0).length;
  const w = wilcoxon(d);
  return { delta: mean(d), better, worse, tied: d.length - better - worse, signP: signTestP(better, better + worse), wilcoxonP: w.p, wilcoxonMethod: w.method };
}

export const commonSeeds = (A: readonly RunResults[], B: readonly RunResults[]) =>
  A.map((r) => r.seed).filter((s) => B.some((x) => x.seed === s)).sort((x, y) => x - y);

export const caseIds = (r: RunResults) => r.validation.perCase.map((c) => c.id);

/** Each case's Dice (in the order of `ids`) averaged over the group's runs at `seeds`. */
export function caseDice(G: readonly RunResults[], seeds: readonly number[], ids: readonly string[]): number[] {
  const maps = seeds.map((s) => new Map(G.find((r) => r.seed === s)!.validation.perCase.map((c) => [c.id, c.dice])));
  return ids.map((id) => mean(maps.map((m) => {
    const v = m.get(id);
    if (v === undefined) throw new Error(`the runs being paired were not validated on the same cases (${id} is missing)`);
    return v;
  })));
}

/** Both groups' case Dice over their common seeds, compared; null when no seed finished for both. */
export function pairGroups(A: readonly RunResults[], B: readonly RunResults[]): (PairedStats & { seeds: number[]; cases: number }) | null {
  const seeds = commonSeeds(A, B);
  if (!seeds.length) return null;
  const ids = caseIds(A[0]);
  return { ...pairedStats(caseDice(A, seeds, ids), caseDice(B, seeds, ids)), seeds, cases: ids.length };
}
