// How the results report writes its numbers and names its methods.
import { mean, std } from './stats.ts';
import type { PairedStats } from './paired.ts';

export const METHOD_LABEL: Record<string, string> = {
  supervised: 'Supervised (labelled only)', full: 'Supervised upper bound (all labelled)', mt: 'MT', uamt: 'UA-MT', dtc: 'DTC', ugmcl: 'UG-MCL',
};

/** Mean ± sample std, scaled; the mean alone for one value. */
export const pm = (xs: number[], scale: number, digits: number) => {
  const m = mean(xs) * scale, s = std(xs) * scale;
  return Number.isNaN(s) ? m.toFixed(digits) : `${m.toFixed(digits)} ± ${s.toFixed(digits)}`;
};

export const fmtP = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** The cells of a paired comparison: Δ Dice in points, better / worse / tied, sign test p, Wilcoxon p. */
export const pairedCells = (s: PairedStats) =>
  [(100 * s.delta).toFixed(2), `${s.better} / ${s.worse} / ${s.tied}`, fmtP(s.signP), `${fmtP(s.wilcoxonP)} (${s.wilcoxonMethod})`];

/** A group's name without the dataset prefix every group of the dataset shares. */
export function shortName(group: string, groups: readonly string[]): string {
  const first = groups[0].split('-');
  let k = 0;
  while (k < first.length - 1 && groups.every((g) => g.split('-')[k] === first[k] && g.split('-').length > k + 1)) k++;
  return group.split('-').slice(k).join('-');
}
