// The one in-memory form of a 3D volume, whatever file it came from.
//
// Array order convention: `shape` is [X, Y, Z] in the order the file's own tools index the array
// (nibabel's get_fdata(), pynrrd's nrrd.read(), h5py's dataset[...]), and `data` is row-major over it:
// the last axis (Z) varies fastest. A volume therefore becomes an engine tensor [1, 1, X, Y, Z] =
// [N, C, D, H, W] with no copy, exactly as PyTorch code does with torch.from_numpy(array) (UA-MT feeds
// the LA h5 arrays (x, y, z) as D, H, W). NIfTI and NRRD store x fastest, so their readers transpose.

/** Geometry carried from a source file so that written masks line up with it in any viewer. */
export interface Geometry {
  /** Voxel size along each axis of `shape`, in mm. */
  spacing: [number, number, number];
  /** 4×4 row-major voxel index (i, j, k) → RAS+ world (mm), as nibabel's `img.affine`. */
  affine: number[];
  /** NIfTI sform/qform codes to write back (0 = unknown, 1 = scanner, 2 = aligned). */
  sformCode: number;
  qformCode: number;
}

export interface Volume extends Geometry {
  data: Float32Array;
  shape: [number, number, number];
  /** Where it was read from, for messages. */
  source: string;
}

/** A reader's complaint: always names the file and what is wrong with it. */
export class FileFormatError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'FileFormatError';
  }
}

export const voxelCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Diagonal affine with the given spacing, for sources that store no orientation. */
export function spacingAffine(spacing: readonly number[]): number[] {
  const [sx, sy, sz] = spacing;
  return [sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, sz, 0, 0, 0, 0, 1];
}

/** Row-major [X, Y, Z] → x-fastest file order (what the writers store). */
export function toFileOrder(src: Float32Array, shape: readonly number[], out: Float32Array | Uint8Array): typeof out {
  const [nx, ny, nz] = shape;
  let i = 0;
  for (let x = 0; x < nx; x++)
    for (let y = 0; y < ny; y++)
      for (let z = 0; z < nz; z++) out[x + nx * (y + ny * z)] = src[i++];
  return out;
}
