// Node file access for the readers and the writer; errors name the file.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Volume } from './volume.ts';
import { FileFormatError } from './volume.ts';
import { parseVolume, type ParseOptions } from './parse.ts';
import { encodeNifti, type NiftiOutputType } from './nifti.ts';

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FileFormatError(path, err.code === 'ENOENT' ? 'no such file' : `cannot be read (${err.message})`);
  }
}

export async function readVolume(path: string, opts: ParseOptions = {}): Promise<Volume> {
  return parseVolume(await readBytes(path), path, opts);
}

/** Writes `vol` as NIfTI-1 .nii.gz, creating the folder if needed. */
export async function writeNifti(path: string, vol: Pick<Volume, 'data' | 'shape' | 'affine' | 'sformCode' | 'qformCode'>, type: NiftiOutputType): Promise<void> {
  if (!path.toLowerCase().endsWith('.nii.gz')) throw new Error(`writeNifti: ${path}: only .nii.gz output is written`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, await encodeNifti(vol, type));
}
