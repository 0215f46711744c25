// Integer-factor downsampling for training at a coarser resolution than the scan's (the left atrium
// at half resolution on CPUs): the image by the mean of each f×f×f block, the label by the block's
// most frequent value (ties to the smaller value, so a half-covered block stays background). Edge
// blocks that the shape does not fill average over the voxels they have. Spacing grows by f and the
// affine's voxel axes with it, so world coordinates stay where they were.
import type { Volume } from '../io/volume.ts';

function blocks(shape: readonly number[], f: number): [number, number, number] {
  return shape.map((n) => Math.ceil(n / f)) as [number, number, number];
}

function reduce(v: Volume, f: number, fold: (values: number[]) => number): Volume {
  const [X, Y, Z] = v.shape;
  const out = blocks(v.shape, f);
  const data = new Float32Array(out[0] * out[1] * out[2]);
  const values: number[] = [];
  for (let i = 0; i < out[0]; i++) for (let j = 0; j < out[1]; j++) for (let k = 0; k < out[2]; k++) {
    values.length = 0;
    for (let x = i * f; x < Math.min(X, (i + 1) * f); x++) for (let y = j * f; y < Math.min(Y, (j + 1) * f); y++) {
      const row = (x * Y + y) * Z;
      for (let z = k * f; z < Math.min(Z, (k + 1) * f); z++) values.push(v.data[row + z]);
    }
    data[(i * out[1] + j) * out[2] + k] = fold(values);
  }
  const affine = v.affine.map((a, idx) => (idx < 12 && idx % 4 < 3 ? a * f : a));
  // The block's centre, not its first voxel, is where the new voxel sits.
  for (let r = 0; r < 3; r++) affine[r * 4 + 3] = v.affine[r * 4 + 3] + ((f - 1) / 2) * (v.affine[r * 4] + v.affine[r * 4 + 1] + v.affine[r * 4 + 2]);
  return { ...v, data, shape: out, spacing: v.spacing.map((s) => s * f) as Volume['spacing'], affine };
}

export function downsampleImage(v: Volume, f: number): Volume {
  return f === 1 ? v : reduce(v, f, (vals) => vals.reduce((s, x) => s + x, 0) / vals.length);
}

export function downsampleLabel(v: Volume, f: number): Volume {
  return f === 1 ? v : reduce(v, f, (vals) => {
    const counts = new Map<number, number>();
    for (const x of vals) counts.set(x, (counts.get(x) ?? 0) + 1);
    let best = Infinity, most = 0;
    for (const [x, c] of counts) if (c > most || (c === most && x < best)) { best = x; most = c; }
    return best;
  });
}
