// A segmentation checkpoint as a network: the architecture travels in the file's metadata ("config",
// the VNet options as JSON), so a checkpoint is self-describing; window settings may travel there
// too ("patch", "stride"), and the resolution it was trained at ("downsample": 1/N of the scan's).
// Works on decoded bytes, so the CLI and the browser app load alike.
import { applyCheckpoint } from '../nn/checkpoint.ts';
import type { SafeFile } from '../nn/safetensors.ts';
import { VNet, type VNetOptions } from '../nn/vnet.ts';
import type { Shape3 } from './sliding-window.ts';

export interface SegmentationModel {
  net: VNet;
  patch?: Shape3;
  stride?: Shape3;
  /** Trained on scans reduced N× per axis (1: at their own resolution). */
  downsample: number;
}

/** The network of a decoded checkpoint in eval mode; `source` names the file in messages. */
export function modelFromCheckpoint(file: SafeFile, source: string): SegmentationModel {
  const header = file.metadata;
  if (!header.config) {
    throw new Error(`${source}: checkpoint has no "config" metadata (the VNet options as JSON), so its architecture is unknown`);
  }
  let config: VNetOptions;
  try {
    config = JSON.parse(header.config);
  } catch {
    throw new Error(`${source}: "config" metadata is not JSON`);
  }
  const triple = (key: string): Shape3 | undefined => {
    if (!header[key]) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(header[key]);
    } catch {
      v = null;
    }
    if (!Array.isArray(v) || v.length !== 3 || v.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(`${source}: "${key}" metadata is not three positive integers: ${header[key].slice(0, 60)}`);
    }
    return v as Shape3;
  };
  const patch = triple('patch'), stride = triple('stride');
  const downsample = header.downsample === undefined ? 1 : Number(header.downsample);
  if (!Number.isInteger(downsample) || downsample < 1 || downsample > 8) {
    throw new Error(`${source}: "downsample" metadata is not an integer from 1 to 8: ${header.downsample.slice(0, 60)}`);
  }
  let net: VNet;
  try {
    net = new VNet(config);
  } catch (e) {
    throw new Error(`${source}: "config" metadata does not describe a V-Net: ${(e as Error).message.replace(/^voxgrad: /, '')}`);
  }
  try {
    applyCheckpoint(net, file, source);
  } catch (e) {
    net.dispose();
    throw e;
  }
  net.eval();
  return { net, patch, stride, downsample };
}

/** The window a model segments with: its checkpoint's, else the LA setting of the papers. */
export function windowDefaults(model: SegmentationModel): { patch: Shape3; stride: Shape3 } {
  return { patch: model.patch ?? [112, 112, 80], stride: model.stride ?? [18, 18, 4] };
}
