// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): squared distance to the
// nearest feature voxel, one separable pass of lower parabola envelopes per axis, with a voxel
// spacing per axis. Values match scipy.ndimage.distance_transform_edt(~features, sampling).

/** One line: d[q] = min_p (w·(q−p))² + f[p]; f is Infinity where no feature reaches yet. */
function envelope(f: Float64Array, n: number, w: number, d: Float64Array, v: Int32Array, z: Float64Array) {
  const w2 = w * w;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    if (k < 0) { k = 0; v[0] = q; z[0] = -Infinity; z[1] = Infinity; continue; }
    // Where the parabolas rooted at p and q cross, in index units; z[0] = −∞ ends the loop.
    const hq = fq / w2 + q * q;
    let p = v[k];
    let s = (hq - (f[p] / w2 + p * p)) / (2 * (q - p));
    while (s <= z[k]) { p = v[--k]; s = (hq - (f[p] / w2 + p * p)) / (2 * (q - p)); }
    k++; v[k] = q; z[k] = s; z[k + 1] = Infinity;
  }
  if (k < 0) { d.fill(Infinity, 0, n); return; }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = w * (q - v[k]);
    d[q] = dq * dq + f[v[k]];
  }
}

/**
 * Squared distances from every voxel of a row-major grid to the nearest voxel where `feature` is
 * non-zero (0 on features, Infinity everywhere if there are none).
 */
export function squaredEdt(feature: Uint8Array, shape: readonly number[], spacing: readonly number[]): Float64Array {
  const [n0, n1, n2] = shape;
  const out = new Float64Array(n0 * n1 * n2);
  for (let i = 0; i < out.length; i++) out[i] = feature[i] ? 0 : Infinity;
  const longest = Math.max(n0, n1, n2);
  const f = new Float64Array(longest), d = new Float64Array(longest);
  const v = new Int32Array(longest), z = new Float64Array(longest + 1);
  const strides = [n1 * n2, n2, 1];
  for (let axis = 2; axis >= 0; axis--) {
    const n = shape[axis], stride = strides[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    const [ma, mb] = [shape[others[0]], shape[others[1]]];
    const [sa, sb] = [strides[others[0]], strides[others[1]]];
    for (let a = 0; a < ma; a++)
      for (let b = 0; b < mb; b++) {
        const base = a * sa + b * sb;
        for (let q = 0; q < n; q++) f[q] = out[base + q * stride];
        envelope(f, n, spacing[axis], d, v, z);
        for (let q = 0; q < n; q++) out[base + q * stride] = d[q];
      }
  }
  return out;
}
