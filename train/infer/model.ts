// A segmentation checkpoint as a network: the architecture travels in the file's metadata ("config",
// the VNet options as JSON), so a checkpoint is self-describing; window settings may travel there
// too ("patch", "stride"). Works on decoded bytes, so the CLI and the browser app load alike.
import { applyCheckpoint } from '../../nn/checkpoint.ts';
import type { SafeFile } from '../../nn/safetensors.ts';
import { VNet, type VNetOptions } from '../../nn/vnet.ts';
import type { Shape3 } from './sliding-window.ts';

export interface SegmentationModel {
  net: VNet;
  patch?: Shape3;
  stride?: Shape3;
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
  const net = new VNet(config);
  applyCheckpoint(net, file, source);
  net.eval();
  const triple = (key: string) => (header[key] ? (JSON.parse(header[key]) as Shape3) : undefined);
  return { net, patch: triple('patch'), stride: triple('stride') };
}

/** The window a model segments with: its checkpoint's, else the LA setting of the papers. */
export function windowDefaults(model: SegmentationModel): { patch: Shape3; stride: Shape3 } {
  return { patch: model.patch ?? [112, 112, 80], stride: model.stride ?? [18, 18, 4] };
}
