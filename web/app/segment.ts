// A loaded volume through a checkpoint exactly as `voxgrad predict` runs it on a NIfTI file: z-score
// normalisation, the checkpoint's window (or the defaults) and resolution, batches of 2 windows, no
// post-processing; the mask on the volume's own grid.
import { windowDefaults, type SegmentationModel } from '../../infer/model.ts';
import { predictScan, type Prediction } from '../../infer/predict.ts';
import type { Volume } from '../../io/volume.ts';

export function segmentVolume(model: SegmentationModel, image: Volume,
                              onProgress: (done: number, total: number) => void): Promise<Prediction> {
  return predictScan(model.net, image, { ...windowDefaults(model), batch: 2, onProgress,
                                         normalization: 'zscore', downsample: model.downsample });
}
