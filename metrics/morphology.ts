// Binary morphology on row-major [X, Y, Z] masks, as scipy.ndimage does it for medpy.

/**
 * Surface voxels: mask XOR binary_erosion(mask, 6-connected cross). scipy's erosion treats the
 * outside of the array as background (border_value = 0), so objects touching the edge have surface there.
 */
export function surface(mask: Uint8Array, shape: readonly number[]): Uint8Array {
  const [nx, ny, nz] = shape;
  const sx = ny * nz, sy = nz;
  const out = new Uint8Array(mask.length);
  for (let x = 0, i = 0; x < nx; x++)
    for (let y = 0; y < ny; y++)
      for (let z = 0; z < nz; z++, i++) {
        if (!mask[i]) continue;
        const interior = x > 0 && x < nx - 1 && y > 0 && y < ny - 1 && z > 0 && z < nz - 1
          && mask[i - sx] && mask[i + sx] && mask[i - sy] && mask[i + sy] && mask[i - 1] && mask[i + 1];
        if (!interior) out[i] = 1;
      }
  return out;
}

