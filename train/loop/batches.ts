// Training cases in memory and the batches cut from them: each sample goes through RandomRotFlip
// and RandomCrop (padding as the reference) drawn from the data generator; labelled samples carry
// their binary label and, for methods that regress it, the normalised SDF of the cropped label.
import type { Backend } from '../../engine/backend.ts';
import { tensor } from '../../engine/ops/create.ts';
import type { Generator } from '../../engine/random.ts';
import type { Dataset } from '../../datasets/dataset.ts';
import type { Case } from '../../datasets/prepare.ts';
import { randomCrop, randomRotFlip } from '../data/augment.ts';
import type { TrainBatch } from '../methods/method.ts';
import { computeSdf } from '../targets/sdf.ts';
import type { Shape3, TrainConfig } from './config.ts';

export interface TrainCase {
  id: string;
  image: Float32Array;
  /** 0/1 foreground. */
  label: Uint8Array;
  shape: Shape3;
}

export function binarize(label: Float32Array, foreground: TrainConfig['data']['foreground']): Uint8Array {
  const out = new Uint8Array(label.length);
  for (let i = 0; i < label.length; i++) out[i] = (foreground === 'nonzero' ? label[i] > 0 : label[i] === foreground) ? 1 : 0;
  return out;
}

/** A prepared case (its label un-binarised) for training, checked for non-finite voxels. */
export function toTrainCase(c: Case, foreground: TrainConfig['data']['foreground']): TrainCase {
  if (c.image.shape.length !== 3) throw new Error(`${c.image.source}: a 3D volume is needed, got shape ${c.image.shape.join('×')}`);
  const bad = c.image.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${c.image.source}: voxel ${bad} is ${c.image.data[bad]}; training needs finite intensities`);
  return { id: c.id, image: c.image.data, label: binarize(c.label.data, foreground), shape: c.image.shape as Shape3 };
}

/** Loads `ids` from the dataset (its labels un-binarised) as training cases. */
export async function loadCases(ds: Dataset, ids: string[], foreground: TrainConfig['data']['foreground'],
                                onCase?: (done: number) => void): Promise<TrainCase[]> {
  const out: TrainCase[] = [];
  for (const id of ids) {
    out.push(toTrainCase(await ds.load(id), foreground));
    onCase?.(out.length);
  }
  return out;
}

export function makeBatch(cases: TrainCase[], indices: number[], nLabeled: number, patch: Shape3, g: Generator,
                          withSdf: boolean, backend: Backend): TrainBatch {
  const vol = patch[0] * patch[1] * patch[2];
  const image = new Float32Array(indices.length * vol);
  const label = new Float32Array(nLabeled * vol);
  const sdf = withSdf ? new Float32Array(nLabeled * vol) : null;
  indices.forEach((index, b) => {
    const c = cases[index];
    const turned = randomRotFlip(c.image, c.label, c.shape, g);
    const s = randomCrop(turned.image, turned.label, turned.shape, patch, g);
    image.set(s.image, b * vol);
    if (b < nLabeled) {
      label.set(s.label, b * vol);
      sdf?.set(computeSdf(s.label, patch), b * vol);
    }
  });
  return {
    image: tensor(image, [indices.length, 1, ...patch], backend),
    label: tensor(label, [nLabeled, ...patch], backend),
    sdf: sdf ? tensor(sdf, [nLabeled, ...patch], backend) : undefined,
    nLabeled,
  };
}
