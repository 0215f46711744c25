// The statistics the results report uses, as SciPy computes them: mean and sample standard deviation,
// the exact two-sided sign test (scipy.stats.binomtest(k, n, 0.5)), and the two-sided Wilcoxon
// signed-rank test (scipy.stats.wilcoxon, zero_method "wilcox", no continuity correction): exact for
// up to 50 differences with no zeros and no ties, the tie-corrected normal approximation otherwise
// (SciPy's "auto" takes the exact path with ties too, truncating the rank sum; we do not).

export const mean = (x: readonly number[]) => x.reduce((s, v) => s + v, 0) / x.length;

/** Sample standard deviation (n − 1); NaN for fewer than two values. */
export function std(x: readonly number[]): number {
  if (x.length < 2) return NaN;
  const m = mean(x);
  return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1));
}

/** Two-sided exact binomial test of k successes in n at p = ½. */
export function signTestP(k: number, n: number): number {
  if (n === 0) return 1;
  let term = 2 ** -n, tail = 0;
  const lo = Math.min(k, n - k);
  for (let i = 0; i <= lo; i++) {
    tail += term;
    term *= (n - i) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}

/** Average ranks of |d| (1-based), ties sharing the mean of their positions. */
function ranks(values: readonly number[]): { rank: number[]; tieSizes: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(values.length);
  const tieSizes: number[] = [];
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) rank[order[k][1]] = (i + j) / 2 + 1;
    if (j > i) tieSizes.push(j - i + 1);
    i = j + 1;
  }
  return { rank, tieSizes };
}

/** Upper tail of the standard normal. */
function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** erfc to about 1e-15 relative: continued fraction for large x, series for small. */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf by its Maclaurin series, converging fast below 2
    let sum = x, term = x;
    for (let n = 1; n < 100; n++) {
      term *= -x * x / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz's continued fraction for erfc
  let f = x, c = x, d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = 1 / d;
    c = x + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * Math.sqrt(Math.PI));
}

export interface WilcoxonResult { statistic: number; p: number; n: number; method: 'exact' | 'approx' }

export function wilcoxon(differences: readonly number[]): WilcoxonResult {
  const d = differences.filter((v) => v !== 0);
  const n = d.length;
  if (n === 0) return { statistic: 0, p: 1, n, method: 'exact' };
  const { rank, tieSizes } = ranks(d.map(Math.abs));
  let rPlus = 0;
  for (let i = 0; i < n; i++) if (d[i] > 0) rPlus += rank[i];
  const total = (n * (n + 1)) / 2;
  const statistic = Math.min(rPlus, total - rPlus);
  if (n <= 50 && n === differences.length && tieSizes.length === 0) {
    // counts[s] = number of sign assignments with rank sum s
    const counts = new Float64Array(total + 1);
    counts[0] = 1;
    for (let r = 1; r <= n; r++) for (let s = total; s >= r; s--) counts[s] += counts[s - r];
    let tail = 0;
    for (let s = 0; s <= statistic; s++) tail += counts[s];
    return { statistic, p: Math.min(1, (2 * tail) / 2 ** n), n, method: 'exact' };
  }
  let variance = n * (n + 1) * (2 * n + 1);
  for (const t of tieSizes) variance -= 0.5 * t * (t * t - 1);
  const z = (statistic - total / 2) / Math.sqrt(variance / 24);
  return { statistic, p: 2 * normalSf(Math.abs(z)), n, method: 'approx' };
}
