// skimage.segmentation.find_boundaries(mask, mode='inner') for a 3D binary mask: a foreground voxel
// is on the boundary when one of its six face neighbours is background. skimage compares a grey
// dilation with an erosion, both reflecting at the volume edge, so a voxel outside the grid counts
// as a copy of its edge neighbour: the volume's own faces are never boundary.

export function innerBoundary(mask: ArrayLike<number>, shape: readonly [number, number, number]): Uint8Array {
  const [n0, n1, n2] = shape;
  const s0 = n1 * n2, s1 = n2;
  const out = new Uint8Array(n0 * n1 * n2);
  if (mask.length !== out.length) throw new Error(`voxgrad: innerBoundary: ${mask.length} values for shape ${shape.join('×')}`);
  for (let i = 0; i < n0; i++)
    for (let j = 0; j < n1; j++)
      for (let k = 0, p = i * s0 + j * s1; k < n2; k++, p++) {
        if (!(mask[p] > 0)) continue;
        out[p] = Number(
          (i > 0 && !(mask[p - s0] > 0)) || (i < n0 - 1 && !(mask[p + s0] > 0)) ||
          (j > 0 && !(mask[p - s1] > 0)) || (j < n1 - 1 && !(mask[p + s1] > 0)) ||
          (k > 0 && !(mask[p - 1] > 0)) || (k < n2 - 1 && !(mask[p + 1] > 0)));
      }
  return out;
}
