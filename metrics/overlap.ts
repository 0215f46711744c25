// Dice and Jaccard as medpy's dc and jc (both masks empty: 1, as medpy's ZeroDivisionError branch).

function counts(a: ArrayLike<number>, b: ArrayLike<number>) {
  if (a.length !== b.length) throw new Error(`masks differ in size (${a.length} vs ${b.length} voxels)`);
  let na = 0, nb = 0, both = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0, y = b[i] !== 0;
    na += +x; nb += +y; both += +(x && y);
  }
  return { na, nb, both };
}

export function dice(result: ArrayLike<number>, reference: ArrayLike<number>): number {
  const { na, nb, both } = counts(result, reference);
  return na + nb === 0 ? 1 : (2 * both) / (na + nb);
}

export function jaccard(result: ArrayLike<number>, reference: ArrayLike<number>): number {
  const { na, nb, both } = counts(result, reference);
  const union = na + nb - both;
  return union === 0 ? 1 : both / union;
}
