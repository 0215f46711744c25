// Bytes a backend holds for tensors and scratch, with high-water marks, so that a training run and
// the benchmarks can say where memory goes. "live" is what is in use; "reserved" is what the backend
// holds from the system (the wasm heap's extent, the GPU buffers a pool keeps), never below live.

export interface MemoryStats {
  live: number;
  peakLive: number;
  reserved: number;
  peakReserved: number;
}

export class MemoryMeter {
  private stats: MemoryStats = { live: 0, peakLive: 0, reserved: 0, peakReserved: 0 };

  /** Moves the live and the reserved byte counts by the given amounts. */
  change(live: number, reserved: number) {
    const s = this.stats;
    s.live += live;
    s.reserved += reserved;
    if (s.live > s.peakLive) s.peakLive = s.live;
    if (s.reserved > s.peakReserved) s.peakReserved = s.reserved;
  }

  read(): MemoryStats { return { ...this.stats }; }

  resetPeaks() {
    this.stats.peakLive = this.stats.live;
    this.stats.peakReserved = this.stats.reserved;
  }
}

/** Bytes as the messages and logs print them. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
