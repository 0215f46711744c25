// The 'wasm' backend's factory, loaded by the registry when wasm is first chosen. Threads: as many as
// cores by default; VOXGRAD_THREADS (Node) or setWasmThreads(n) changes it. Browsers give threads only
// to cross-origin-isolated pages (served with `Cross-Origin-Opener-Policy: same-origin` and
// `Cross-Origin-Embedder-Policy: require-corp`); elsewhere the backend runs on one thread and says so once.
import { WasmBackend } from './backend.ts';
import { Device } from './device.ts';

let requested: number | undefined;
let live: WasmBackend | null = null;

async function defaultThreads(): Promise<number> {
  const g = globalThis as any;
  const fromEnv = Number(g.process?.env?.VOXGRAD_THREADS);
  if (fromEnv >= 1) return Math.floor(fromEnv);
  if (typeof g.process?.versions?.node === 'string') return (await import('node:os')).availableParallelism();
  return Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
}

function threadsAvailable(): boolean {
  const g = globalThis as any;
  return typeof SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false;
}

async function applyThreads(backend: WasmBackend, n: number) {
  if (n > 1 && !backend.device.shared) {
    console.warn('voxgrad: the wasm backend runs on one thread: this page is not cross-origin isolated ' +
      '(serve it with COOP: same-origin and COEP: require-corp to get threads)');
    n = 1;
  }
  await backend.device.pool.resize(n);
}

/** Sets the wasm backend's thread count (now if it is running, else when it starts). */
export async function setWasmThreads(n: number) {
  requested = n;
  if (live) await applyThreads(live, n);
}

export async function createWasmBackend(): Promise<WasmBackend> {
  const backend = new WasmBackend(await Device.create(threadsAvailable()));
  await applyThreads(backend, requested ?? (await defaultThreads()));
  live = backend;
  const dispose = backend.dispose.bind(backend);
  backend.dispose = () => { dispose(); if (live === backend) live = null; };
  return backend;
}
