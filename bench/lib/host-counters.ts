// The webgpu backend's host-side counters (WebGPUBackend.stats(): dispatches, submits, JavaScript
// seconds, …) per call of what a benchmark times; null on backends that keep none.
import type { Backend } from '../../engine/backend.ts';

type Counters = Record<string, number>;

export const readCounters = (b: Backend): Counters | null =>
  'stats' in b && typeof b.stats === 'function' ? (b.stats as () => Counters)() : null;

/** (after − before) / calls for every counter that is a number in both. */
export function perCall(before: Counters | null, after: Counters | null, calls: number): Counters | undefined {
  if (!before || !after || calls <= 0) return undefined;
  return Object.fromEntries(Object.keys(after).filter((k) => typeof before[k] === 'number').map((k) => [k, (after[k] - before[k]) / calls]));
}
