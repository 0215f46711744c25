// Entry of the WebGPU backend, loaded lazily by the registry so that nothing touches WebGPU until asked.
import type { Backend } from '../../backend.ts';
import { WebGPUBackend } from './backend.ts';
import { acquireGpu } from './device.ts';

export { WebGPUBackend };

export async function createWebGPUBackend(opts: { hardwareOnly: boolean }): Promise<Backend> {
  return new WebGPUBackend(await acquireGpu(opts.hardwareOnly));
}
