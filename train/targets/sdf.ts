// The signed distance map target of DTC / UG-MCL (`compute_sdf` in DTC's code/utils/util.py) for one
// binary sample: the distance to the object normalised to [0, 1] outside, minus the distance to the
// background normalised to [0, 1] inside, and 0 on the object's inner boundary.
import { squaredEdt } from '../../metrics/edt.ts';
import { innerBoundary } from './boundary.ts';

export { innerBoundary };

/**
 * Row-major SDM in [−1, 1] of the mask label > 0.
 *
 * With no foreground it is all zeros, as in the reference. With no background the reference divides
 * 0 by 0 and returns NaN everywhere; here that sample is all zeros too, since an object that fills the
 * patch has no boundary to measure a distance from, and NaN targets would poison the loss.
 */
export function computeSdf(label: ArrayLike<number>, shape: readonly [number, number, number]): Float32Array {
  const n = shape[0] * shape[1] * shape[2];
  if (label.length !== n) throw new Error(`voxgrad: computeSdf: ${label.length} values for shape ${shape.join('×')}`);
  const out = new Float32Array(n);
  const fg = new Uint8Array(n), bg = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    fg[i] = Number(label[i] > 0);
    bg[i] = 1 - fg[i];
    count += fg[i];
  }
  if (count === 0 || count === n) return out;
  const unit = [1, 1, 1];
  // Squared distance to the object (scipy's negdis², 0 inside) and to the background (posdis², 0
  // outside). Both minima are 0 when both classes are present, so min–max scaling is division by max.
  const toFg = squaredEdt(fg, shape, unit), toBg = squaredEdt(bg, shape, unit);
  let maxNeg = 0, maxPos = 0;
  for (let i = 0; i < n; i++) {
    if (toFg[i] > maxNeg) maxNeg = toFg[i];
    if (toBg[i] > maxPos) maxPos = toBg[i];
  }
  maxNeg = Math.sqrt(maxNeg);
  maxPos = Math.sqrt(maxPos);
  const edge = innerBoundary(fg, shape);
  for (let i = 0; i < n; i++)
    out[i] = edge[i] ? 0 : fg[i] ? -Math.sqrt(toBg[i]) / maxPos : Math.sqrt(toFg[i]) / maxNeg;
  return out;
}
