// What holds the bytes at a computation's peak: the live tensors of the open scopes grouped by the op
// that made them and their shape, so that memory work goes where the bytes are. A snapshot is taken
// whenever the backend's bytes in use pass the last snapshot's by 2 %, so the last one lies within
// 2 % of the peak (as seen at tensor creations; a kernel's scratch in between is counted in `live`).
import { getBackend } from './registry.ts';
import { scopedTensors, setTrackHook } from './memory.ts';
import type { Storage } from './tensor.ts';

export interface CensusRow {
  /** The op that made the tensors (its autograd node's name), or "untaped" for tensors without one. */
  op: string;
  shape: string;
  count: number;
  bytes: number;
}

export interface Census {
  /** The backend's bytes in use at the snapshot. */
  live: number;
  /** Tensors of open scopes, largest groups first. */
  rows: CensusRow[];
  /** live minus the scoped tensors: weights, gradients, optimiser state, kernel scratch. */
  outsideScopes: number;
}

function snapshot(live: number): Census {
  const seen = new Set<Storage>();
  const groups = new Map<string, CensusRow>();
  let scoped = 0;
  for (const t of scopedTensors()) {
    const s = t.heldStorage;
    if (!s || seen.has(s)) continue;
    seen.add(s);
    const op = t.node?.name ?? 'untaped', shape = t.shape.join('×'), key = `${op} ${shape}`;
    const bytes = s.buf.size * 4;
    const row = groups.get(key) ?? { op, shape, count: 0, bytes: 0 };
    row.count++;
    row.bytes += bytes;
    groups.set(key, row);
    scoped += bytes;
  }
  return { live, rows: [...groups.values()].sort((a, b) => b.bytes - a.bytes), outsideScopes: live - scoped };
}

/** Runs fn and returns, with its result, the census of the largest moment of bytes in use during it. */
export async function censusAtPeak<T>(fn: () => T | Promise<T>): Promise<{ result: T; census: Census }> {
  const backend = getBackend();
  let census = snapshot(backend.memory().live);
  setTrackHook(() => {
    const live = backend.memory().live;
    if (live > census.live * 1.02) census = snapshot(live);
  });
  try {
    const result = await fn();
    return { result, census };
  } finally {
    setTrackHook(null);
  }
}
