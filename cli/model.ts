// Loading a segmentation checkpoint for the CLI: the file read from disk on the chosen backend, then
// infer/model.ts, which the browser app shares.
import { readCheckpoint } from '../nn/checkpoint.ts';
import { setBackend } from '../engine/registry.ts';
import { modelFromCheckpoint, type SegmentationModel } from '../infer/model.ts';
import type { Shape3 } from '../infer/sliding-window.ts';

export interface LoadedModel extends SegmentationModel {
  backend: string;
}

export async function loadModel(path: string, backend = 'auto'): Promise<LoadedModel> {
  const chosen = await setBackend(backend);
  return { ...modelFromCheckpoint(await readCheckpoint(path), path), backend: chosen };
}

/** "a,b,c" → three positive integers. */
export function parseTriple(text: string, flag: string): Shape3 {
  const v = text.split(',').map(Number);
  if (v.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new Error(`${flag} ${text}: expected three positive integers, e.g. 112,112,80`);
  }
  return v as Shape3;
}
