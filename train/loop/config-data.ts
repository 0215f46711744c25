// The cases a config's data section names, opened the one way training, validation and the
// experiments' scoring all read them: its layout, normalisation and resolution (data.downsample),
// labels as stored so that data.foreground can pick the class.
import { type Dataset, openDataset } from '../../datasets/dataset.ts';
import type { TrainConfig } from './config.ts';

export function openConfigDataset(d: TrainConfig['data'], list: string): Promise<Dataset> {
  return openDataset({ root: d.root, list, layout: d.layout, normalization: d.normalization, downsample: d.downsample, binaryLabels: false });
}
