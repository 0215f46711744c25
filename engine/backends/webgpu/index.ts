// Entry of the WebGPU backend, loaded lazily by the registry so that nothing touches WebGPU until asked.
import type { Backend } from '../../backend.ts';
import { WebGPUBackend } from './backend.ts';
import { accountingContext } from './accounting-device.ts';
import { acquireGpu } from './device.ts';

export { WebGPUBackend };

export async function createWebGPUBackend(opts: { hardwareOnly: boolean; maxBindingBytes?: number }): Promise<Backend> {
  return new WebGPUBackend({ ...await acquireGpu(opts.hardwareOnly), maxBindingBytes: opts.maxBindingBytes });
}

/** The backend on an accounting device with WebGPU's default limits: needs no GPU, computes nothing. */
export function createAccountingBackend(): Backend {
  return new WebGPUBackend(accountingContext());
}
