// Shape arithmetic shared by the ops: strides, broadcasting, axis normalisation.

export function sizeOf(shape: readonly number[]) {
  return shape.reduce((a, b) => a * b, 1);
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`voxgrad: shapes [${a}] and [${b}] do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a contiguous tensor of `shape` as if it had `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = contiguousStrides(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((d, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]));
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`voxgrad: axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function normAxes(axes: number | number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(a, rank));
  return [...new Set(list)].sort((a, b) => a - b);
}

export function sameShape(a: readonly number[], b: readonly number[]) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export type Triple = [number, number, number];
export function triple(v: number | readonly number[] | undefined, dflt: number, what: string): Triple {
  if (v === undefined) return [dflt, dflt, dflt];
  if (typeof v === 'number') return [v, v, v];
  if (v.length !== 3) throw new Error(`voxgrad: ${what} needs 1 or 3 values, got [${v}]`);
  return [v[0], v[1], v[2]];
}
