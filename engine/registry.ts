// Which backend new tensors live on. Backends register a factory; `auto` prefers a hardware GPU,
// then WebAssembly, then the reference backend.
import type { Backend } from './backend.ts';
import { RefBackend } from './backends/ref.ts';
import { state } from './state.ts';

export type BackendName = 'ref' | 'wasm' | 'webgpu' | 'auto' | (string & {});
/** `hardwareOnly` asks a backend to refuse software emulation (auto never prefers that to wasm). */
export type BackendFactory = (opts: { hardwareOnly: boolean }) => Promise<Backend>;

const factories = new Map<string, BackendFactory>();
const instances = new Map<string, Backend>();

export function registerBackend(name: string, factory: BackendFactory) {
  factories.set(name, factory);
}

export function registeredBackends(): string[] {
  return [...factories.keys()];
}

// The reference backend is loaded with the registry: it is the default before any is chosen. The
// others load when first chosen.
registerBackend('ref', async () => new RefBackend('ref', Float32Array));
// Float64 storage: used by the finite-difference gradient checks, not meant for training.
registerBackend('ref64', async () => new RefBackend('ref64', Float64Array));
registerBackend('webgpu', async (opts) => (await import('./backends/webgpu/index.ts')).createWebGPUBackend(opts));
registerBackend('wasm', async () => (await import('./backends/wasm/index.ts')).createWasmBackend());
// WebGPU's memory without a GPU: buffers are counted and pooled as on a device, no kernel runs.
registerBackend('webgpu-accounting', async () => (await import('./backends/webgpu/index.ts')).createAccountingBackend());

async function instantiate(name: string, hardwareOnly: boolean): Promise<Backend> {
  const have = instances.get(name);
  if (have) {
    if (hardwareOnly && have.software) throw new Error(`voxgrad: backend '${name}' here runs on a software device`);
    return have;
  }
  const factory = factories.get(name);
  if (!factory) throw new Error(`voxgrad: unknown backend '${name}' (known: ${[...factories.keys()].join(', ')})`);
  const backend = await factory({ hardwareOnly });
  instances.set(name, backend);
  return backend;
}

/** Selects the backend for tensors created from now on; returns the name actually chosen. */
export async function setBackend(name: BackendName): Promise<string> {
  if (name !== 'auto') {
    state.backend = await instantiate(name, false);
    return state.backend.name;
  }
  for (const candidate of ['webgpu', 'wasm']) {
    try {
      state.backend = await instantiate(candidate, true);
      return state.backend.name;
    } catch {
      // not available here: try the next one
    }
  }
  state.backend = await instantiate('ref', false);
  return state.backend.name;
}

/** Runs `fn` (synchronous) with `backend` as the one new tensors live on, then puts the previous back. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const previous = state.backend;
  state.backend = backend;
  try {
    return fn();
  } finally {
    state.backend = previous;
  }
}

export function getBackend(): Backend {
  if (!state.backend) state.backend = new RefBackend('ref', Float32Array);
  instances.set(state.backend.name, state.backend);
  return state.backend;
}

/** Frees device resources of every backend created so far, so that the process can exit. */
export function disposeBackends() {
  for (const b of instances.values()) b.dispose?.();
  instances.clear();
  state.backend = null;
}
