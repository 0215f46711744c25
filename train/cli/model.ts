// Loading a segmentation checkpoint for the CLI. The network's architecture travels in the file's
// metadata ("config", the VNet options as JSON), so a checkpoint is self-describing; window
// settings may travel there too ("patch", "stride").
import { VNet, type VNetOptions } from '../../nn/vnet.ts';
import { applyCheckpoint, readCheckpoint } from '../../nn/checkpoint.ts';
import { setBackend } from '../../engine/registry.ts';
import type { Shape3 } from '../infer/sliding-window.ts';

export interface LoadedModel {
  net: VNet;
  backend: string;
  patch?: Shape3;
  stride?: Shape3;
}

export async function loadModel(path: string, backend = 'auto'): Promise<LoadedModel> {
  const chosen = await setBackend(backend);
  const file = await readCheckpoint(path);
  const header = file.metadata;
  if (!header.config) {
    throw new Error(`${path}: checkpoint has no "config" metadata (the VNet options as JSON), so its architecture is unknown`);
  }
  let config: VNetOptions;
  try {
    config = JSON.parse(header.config);
  } catch {
    throw new Error(`${path}: "config" metadata is not JSON`);
  }
  const net = new VNet(config);
  applyCheckpoint(net, file, path);
  net.eval();
  const triple = (key: string) => (header[key] ? (JSON.parse(header[key]) as Shape3) : undefined);
  return { net, backend: chosen, patch: triple('patch'), stride: triple('stride') };
}

/** "a,b,c" → three positive integers. */
export function parseTriple(text: string, flag: string): Shape3 {
  const v = text.split(',').map(Number);
  if (v.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new Error(`${flag} ${text}: expected three positive integers, e.g. 112,112,80`);
  }
  return v as Shape3;
}
