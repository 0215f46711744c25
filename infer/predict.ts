// One volume through a segmentation network: sliding windows, class probabilities, the label map,
// optionally only its largest connected component (DTC/DTML's post-processing). A model trained at
// 1/f of the scan's resolution (data.downsample f) sees the scan reduced as training reduced it, and
// its class probabilities come back to the scan's grid before the label is taken, so masks and
// scores are at the resolution of the input, as the papers score.
import * as vg from '../engine/index.ts';
import type { VNet } from '../nn/vnet.ts';
import { downsampleImage } from '../datasets/downsample.ts';
import { normalize, type Normalization } from '../datasets/normalize.ts';
import type { Volume } from '../io/volume.ts';
import { largestComponent } from '../metrics/lcc.ts';
import { upsampleTrilinear } from './resample.ts';
import { argmaxLabel, slidingWindow, type Shape3 } from './sliding-window.ts';

export interface PredictOptions {
  patch: Shape3;
  stride: Shape3;
  batch?: number;
  lcc?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ScanOptions extends PredictOptions {
  /** Applied after the reduction, as training prepares a case. */
  normalization: Normalization;
  /** The model's resolution is 1/downsample of the scan's (1: the scan's own). */
  downsample: number;
}

export interface Prediction {
  /** Foreground label map (class index for multi-class heads), [X, Y, Z] row-major. */
  label: Uint8Array;
  /** Foreground probability (class 1, or the sigmoid of a single-channel head). */
  foreground: Float32Array;
}

/** Student network in eval mode, dropout off: softmax over classes, or sigmoid for one channel. */
function windows(net: VNet, image: Pick<Volume, 'data' | 'shape'>, opts: PredictOptions) {
  net.eval();
  const oneChannel = net.config.nClasses === 1;
  return slidingWindow(image.data, image.shape, (x) => {
    const seg = net.forward(x, { dropout: false }).seg;
    return oneChannel ? vg.sigmoid(seg) : vg.softmax(seg, 1);
  }, opts);
}

function prediction(probs: Float32Array, label: ArrayLike<number>, classes: number, shape: Shape3, lcc?: boolean): Prediction {
  const vol = shape[0] * shape[1] * shape[2];
  const foreground = probs.slice(classes === 1 ? 0 : vol, classes === 1 ? vol : 2 * vol);
  return { label: lcc ? largestComponent(label, shape) : Uint8Array.from(label), foreground };
}

/** `image` at the network's own resolution, normalised as its training data was. */
export async function predictVolume(net: VNet, image: Pick<Volume, 'data' | 'shape'>, opts: PredictOptions): Promise<Prediction> {
  const r = await windows(net, image, opts);
  return prediction(r.probs, r.label, r.classes, image.shape, opts.lcc);
}

/** `image` as read from its file, at the scan's resolution; the prediction is on the same grid. */
export async function predictScan(net: VNet, image: Volume, opts: ScanOptions): Promise<Prediction> {
  const f = opts.downsample;
  const small = downsampleImage(image, f);
  const input = { data: normalize(small.data, opts.normalization), shape: small.shape };
  if (f === 1) return predictVolume(net, input, opts);
  const r = await windows(net, input, opts);
  const probs = upsampleTrilinear(r.probs, r.classes, small.shape, f, image.shape);
  return prediction(probs, argmaxLabel(probs, r.classes, image.data.length), r.classes, image.shape, opts.lcc);
}
