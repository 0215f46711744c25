// NIfTI's two orientation encodings: the quaternion "qform" and the plain 4×4 affine.
// Affines are row-major 16-element arrays mapping voxel (i, j, k, 1) to RAS+ millimetres.

export interface Quatern { b: number; c: number; d: number; qx: number; qy: number; qz: number; qfac: number }

/** qform → affine, as the NIfTI-1 standard defines it (pixdim[1..3] scale the columns). */
export function quaternToAffine(q: Quatern, pixdim: readonly number[]): number[] {
  const { b, c, d } = q;
  // a is implied; rounding in float32 headers can push 1 − |bcd|² slightly negative.
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const s = [pixdim[0], pixdim[1], (q.qfac < 0 ? -1 : 1) * pixdim[2]];
  const t = [q.qx, q.qy, q.qz];
  const m: number[] = [];
  for (let r = 0; r < 3; r++) m.push(R[r][0] * s[0], R[r][1] * s[1], R[r][2] * s[2], t[r]);
  return [...m, 0, 0, 0, 1];
}

/** Column lengths of the affine's 3×3 part: the voxel size it implies. */
export function affineSpacing(m: readonly number[]): [number, number, number] {
  const col = (j: number) => Math.hypot(m[j], m[4 + j], m[8 + j]);
  return [col(0), col(1), col(2)];
}

/** affine → qform, assuming orthogonal columns (any shear is dropped, as in every NIfTI writer). */
export function affineToQuatern(m: readonly number[]): { q: Quatern; pixdim: [number, number, number] } {
  const sp = affineSpacing(m).map((v) => v || 1) as [number, number, number];
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((j) => m[4 * r + j] / sp[j]));
  const det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0])
    + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) R[r][2] = -R[r][2];
  const tr = R[0][0] + R[1][1] + R[2][2];
  let a: number, b: number, c: number, d: number;
  // Branch on the largest diagonal term so the division below is never by a tiny number.
  if (tr > 0) {
    a = 0.5 * Math.sqrt(1 + tr);
    b = (R[2][1] - R[1][2]) / (4 * a); c = (R[0][2] - R[2][0]) / (4 * a); d = (R[1][0] - R[0][1]) / (4 * a);
  } else if (R[0][0] >= R[1][1] && R[0][0] >= R[2][2]) {
    b = 0.5 * Math.sqrt(1 + R[0][0] - R[1][1] - R[2][2]);
    a = (R[2][1] - R[1][2]) / (4 * b); c = (R[0][1] + R[1][0]) / (4 * b); d = (R[0][2] + R[2][0]) / (4 * b);
  } else if (R[1][1] >= R[2][2]) {
    c = 0.5 * Math.sqrt(1 + R[1][1] - R[0][0] - R[2][2]);
    a = (R[0][2] - R[2][0]) / (4 * c); b = (R[0][1] + R[1][0]) / (4 * c); d = (R[1][2] + R[2][1]) / (4 * c);
  } else {
    d = 0.5 * Math.sqrt(1 + R[2][2] - R[0][0] - R[1][1]);
    a = (R[1][0] - R[0][1]) / (4 * d); b = (R[0][2] + R[2][0]) / (4 * d); c = (R[1][2] + R[2][1]) / (4 * d);
  }
  // The file stores only b, c, d and implies a ≥ 0; (a,b,c,d) and its negation are the same rotation.
  if (a < 0) { b = -b; c = -c; d = -d; }
  return { q: { b, c, d, qx: m[3], qy: m[7], qz: m[11], qfac }, pixdim: sp };
}
