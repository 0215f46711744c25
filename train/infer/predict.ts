// One volume through a segmentation network: sliding windows, class probabilities, the label map,
// optionally only its largest connected component (DTC/DTML's post-processing).
import * as vg from '../../engine/index.ts';
import type { VNet } from '../../nn/vnet.ts';
import type { Volume } from '../io/volume.ts';
import { largestComponent } from '../metrics/lcc.ts';
import { slidingWindow, type Shape3 } from './sliding-window.ts';

export interface PredictOptions {
  patch: Shape3;
  stride: Shape3;
  batch?: number;
  lcc?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface Prediction {
  /** Foreground label map (class index for multi-class heads), [X, Y, Z] row-major. */
  label: Uint8Array;
  /** Foreground probability (class 1, or the sigmoid of a single-channel head). */
  foreground: Float32Array;
}

/** Student network in eval mode, dropout off: softmax over classes, or sigmoid for one channel. */
export async function predictVolume(net: VNet, image: Pick<Volume, 'data' | 'shape'>, opts: PredictOptions): Promise<Prediction> {
  net.eval();
  const oneChannel = net.config.nClasses === 1;
  const r = await slidingWindow(image.data, image.shape, (x) => {
    const seg = net.forward(x, { dropout: false }).seg;
    return oneChannel ? vg.sigmoid(seg) : vg.softmax(seg, 1);
  }, opts);
  const vol = image.data.length;
  const foreground = r.probs.slice(oneChannel ? 0 : vol, oneChannel ? vol : 2 * vol);
  const label = opts.lcc ? largestComponent(r.label, image.shape) : Uint8Array.from(r.label);
  return { label, foreground };
}
