// A label-only baseline: the voxel-wise majority vote of training labels, laid on a common grid
// from the origin corner (the MSD hippocampus crops are roughly aligned that way). It looks at no
// image, so it is the floor a trained network has to clear.

export type Shape = readonly [number, number, number];

/** Copies a row-major mask into `shape`, cropping or zero-padding at the far end of each axis. */
export function fitToShape(mask: ArrayLike<number>, from: Shape, to: Shape): Uint8Array {
  const out = new Uint8Array(to[0] * to[1] * to[2]);
  const [nx, ny, nz] = [0, 1, 2].map((a) => Math.min(from[a], to[a]));
  for (let x = 0; x < nx; x++)
    for (let y = 0; y < ny; y++)
      for (let z = 0; z < nz; z++) out[(x * to[1] + y) * to[2] + z] = mask[(x * from[1] + y) * from[2] + z] ? 1 : 0;
  return out;
}

export function majorityAtlas(labels: { data: ArrayLike<number>; shape: Shape }[]): { data: Uint8Array; shape: Shape } {
  const shape = [0, 1, 2].map((a) => Math.max(...labels.map((l) => l.shape[a]))) as [number, number, number];
  const votes = new Uint16Array(shape[0] * shape[1] * shape[2]);
  for (const l of labels) fitToShape(l.data, l.shape, shape).forEach((v, i) => (votes[i] += v));
  const data = new Uint8Array(votes.length);
  for (let i = 0; i < votes.length; i++) data[i] = 2 * votes[i] > labels.length ? 1 : 0;
  return { data, shape };
}
