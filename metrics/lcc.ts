// Largest connected component, as DTC/DTML's getLargestCC: skimage.measure.label with its default
// full (26-) connectivity in 3-D, then the biggest non-zero label; on a tie, the component met
// first in row-major order (skimage numbers components in that order and argmax takes the first).

export function largestComponent(mask: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const [nx, ny, nz] = shape;
  const n = nx * ny * nz;
  const label = new Int32Array(n);
  const queue = new Int32Array(n);
  let best = 0, bestSize = 0, next = 0;
  for (let seed = 0; seed < n; seed++) {
    if (!mask[seed] || label[seed]) continue;
    const id = ++next;
    label[seed] = id;
    let head = 0, tail = 0, size = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const i = queue[head++];
      size++;
      const x = Math.floor(i / (ny * nz)), y = Math.floor(i / nz) % ny, z = i % nz;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= nx) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= ny) continue;
          for (let dz = -1; dz <= 1; dz++) {
            const zz = z + dz;
            if (zz < 0 || zz >= nz) continue;
            const j = (xx * ny + yy) * nz + zz;
            if (mask[j] && !label[j]) { label[j] = id; queue[tail++] = j; }
          }
        }
      }
    }
    if (size > bestSize) { best = id; bestSize = size; }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = label[i] === best && best ? 1 : 0;
  return out;
}
