// numpy.percentile's default ("linear") method, including its two-sided interpolation formula.

export function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) throw new Error('percentile of an empty array');
  const a = Float64Array.from(values).sort();
  const h = (a.length - 1) * (q / 100);
  const lo = Math.floor(h), t = h - lo;
  if (lo + 1 >= a.length) return a[a.length - 1];
  const below = a[lo], above = a[lo + 1], diff = above - below;
  // numpy interpolates from the nearer end, which changes the last bits of the result.
  return t >= 0.5 ? above - diff * (1 - t) : below + diff * t;
}
