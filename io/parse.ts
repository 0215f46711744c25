// Picks the reader from the file name, so callers (CLI, datasets, the browser's file picker)
// hand over bytes and a name and get a volume.
import { type Volume, FileFormatError } from './volume.ts';
import { parseNifti } from './nifti.ts';
import { parseNrrd } from './nrrd.ts';
import { parseH5 } from './h5.ts';

export interface ParseOptions {
  /** HDF5 dataset to read (default "image"). */
  dataset?: string;
  /** Voxel size to assume for formats that store none (HDF5). */
  spacing?: [number, number, number];
}

export const VOLUME_EXTENSIONS = ['.nii', '.nii.gz', '.nrrd', '.h5', '.hdf5'];

export async function parseVolume(bytes: Uint8Array, name: string, opts: ParseOptions = {}): Promise<Volume> {
  const lower = name.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return parseNifti(bytes, name);
  if (lower.endsWith('.nrrd')) return parseNrrd(bytes, name);
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) {
    const dataset = opts.dataset ?? 'image';
    return (await parseH5(bytes, name, [dataset], opts.spacing))[dataset];
  }
  throw new FileFormatError(name, `unknown volume format (expected one of ${VOLUME_EXTENSIONS.join(', ')})`);
}
