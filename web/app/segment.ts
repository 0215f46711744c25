// A loaded volume through a checkpoint exactly as `voxgrad predict` runs it on a NIfTI file: z-score
// normalisation, the checkpoint's window (or the defaults), batches of 2 windows, no post-processing.
import { normalize } from '../../train/data/normalize.ts';
import { windowDefaults, type SegmentationModel } from '../../train/infer/model.ts';
import { predictVolume, type Prediction } from '../../train/infer/predict.ts';
import type { Volume } from '../../train/io/volume.ts';

export function segmentVolume(model: SegmentationModel, image: Volume,
                              onProgress: (done: number, total: number) => void): Promise<Prediction> {
  return predictVolume(model.net, { ...image, data: normalize(image.data, 'zscore') },
                       { ...windowDefaults(model), batch: 2, onProgress });
}
