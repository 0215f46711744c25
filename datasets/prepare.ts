// A case as training and scoring see it, from its image and label volumes however they were read
// (files on disk, or bytes the browser app was given): shapes checked, downsampled, the image
// normalised, the label binarised if asked.
import { FileFormatError, type Volume } from '../io/volume.ts';
import { downsampleImage, downsampleLabel } from './downsample.ts';
import { type Normalization, normalize } from './normalize.ts';

export interface Case { id: string; image: Volume; label: Volume }

/** The pair itself, once the label is known to cover the image voxel for voxel. */
export function checkedPair(image: Volume, label: Volume): { image: Volume; label: Volume } {
  if (image.shape.join() !== label.shape.join())
    throw new FileFormatError(label.source, `label shape ${label.shape.join('×')} differs from the image's ${image.shape.join('×')}`);
  return { image, label };
}

export function prepareCase(id: string, image: Volume, label: Volume,
                            opts: { normalization: Normalization; binaryLabels: boolean; downsample: number }): Case {
  checkedPair(image, label);
  const small = downsampleImage(image, opts.downsample), smallLabel = downsampleLabel(label, opts.downsample);
  const labelData = opts.binaryLabels ? smallLabel.data.map((v) => (v > 0 ? 1 : 0)) : smallLabel.data;
  return { id, image: { ...small, data: normalize(small.data, opts.normalization) }, label: { ...smallLabel, data: labelData } };
}
