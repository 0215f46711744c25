// Decodes the bit-packed masks of test/fixtures/metrics.json (numpy packbits, little bit order, zlib).
import { inflateSync } from 'node:zlib';

export function unpackMask(b64: string, n: number): Uint8Array {
  const bits = inflateSync(Buffer.from(b64, 'base64'));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bits[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** The fixture script's shift: moves a row-major [X, Y, Z] mask by d voxels, background fill. */
export function shiftMask(m: ArrayLike<number>, shape: readonly number[], d: readonly number[]): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(m.length);
  for (let x = 0; x < nx; x++)
    for (let y = 0; y < ny; y++)
      for (let z = 0; z < nz; z++) {
        const [a, b, c] = [x + d[0], y + d[1], z + d[2]];
        if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
        out[(a * ny + b) * nz + c] = m[(x * ny + y) * nz + z] ? 1 : 0;
      }
  return out;
}
