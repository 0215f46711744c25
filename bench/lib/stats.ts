// Repeated timings summarised as median and spread: on a shared machine one figure is noise, and the
// median of several, with the range beside it, shows how much.
export interface Stat { median: number; min: number; max: number; n: number }

export function stat(samples: number[]): Stat {
  if (!samples.length) throw new Error('bench: no samples to summarise');
  const s = [...samples].sort((a, b) => a - b), h = s.length >> 1;
  return { median: s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Seconds of each of `reps` calls of fn, after one untimed warm-up call when `warm` is set. */
export async function timeSamples(fn: () => unknown, reps: number, warm = true): Promise<number[]> {
  if (warm) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times;
}

/** The anchor's median time over ours: above 1, voxgrad is faster. */
export const ratio = (ours: Stat, anchor: Stat | undefined) => (anchor ? anchor.median / ours.median : undefined);
