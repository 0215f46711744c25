// Reads the PyTorch V-Net fixtures written by test/vnet_reference.py (safetensors, read by our own
// decoder, whose round trip and strictness test/checkpoint.test.ts checks separately).
import { readFileSync } from 'node:fs';
import * as vg from '../../index.ts';
import { repoRoot } from './fixtures.ts';

export const parityPath = `${repoRoot}test/fixtures/vnet_parity.safetensors`;
export const torchWeightsPath = `${repoRoot}test/fixtures/vnet_torch_weights.safetensors`;

export interface Manifest {
  config: vg.nn.VNetOptions;
  parameters: number;
  state: [string, number[]][];
}

export function loadParity() {
  const file = vg.decodeSafetensors(readFileSync(parityPath), parityPath);
  const get = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`${parityPath} has no tensor '${name}'`);
    return t;
  };
  return {
    get,
    names: [...file.tensors.keys()],
    meta: file.metadata,
    configA: JSON.parse(file.metadata.a_config) as vg.nn.VNetOptions,
    configB: JSON.parse(file.metadata.b_config) as vg.nn.VNetOptions,
    manifests: JSON.parse(file.metadata.manifests) as Manifest[],
  };
}
