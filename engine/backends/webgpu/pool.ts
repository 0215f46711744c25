// GPU buffers recycled by size bucket, so that a training step in steady state creates none.
// Buckets are powers of two split in quarters: at most 25 % of a buffer is slack.
import type { MemoryMeter } from '../../memory-meter.ts';

const MIN_BYTES = 256;

export function bucketBytes(bytes: number): number {
  if (bytes <= MIN_BYTES) return MIN_BYTES;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const quarter = pow / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private created = 0;
  private idle = 0;
  /** The largest buffer handed out, in bytes. */
  largest = 0;
  /**
   * The largest size asked for, in bytes: what a device whose limit lies between it and its bucket
   * creates exactly (acquire's fallback), so what must fit the limit.
   */
  largestAsked = 0;

  constructor(private readonly device: GPUDevice, private readonly usage: number, private readonly label: string,
              private readonly maxBytes: number, private readonly meter: MemoryMeter) {}

  acquire(bytes: number): GPUBuffer {
    const bucket = bucketBytes(bytes), exact = Math.ceil(bytes / 4) * 4;
    this.largestAsked = Math.max(this.largestAsked, exact);
    const size = bucket <= this.maxBytes ? bucket : exact;
    if (size > this.largest) this.largest = size;
    const reuse = this.free.get(size)?.pop();
    if (reuse) {
      this.idle--;
      this.meter.change(size, 0);
      return reuse;
    }
    this.created++;
    this.meter.change(size, size);
    return this.device.createBuffer({ label: this.label, size, usage: this.usage });
  }

  release(buf: GPUBuffer) {
    let list = this.free.get(buf.size);
    if (!list) this.free.set(buf.size, (list = []));
    list.push(buf);
    this.idle++;
    this.meter.change(-buf.size, 0);
  }

  /** GPU buffers that exist: in use plus waiting in the pool. */
  get total() { return this.created; }
  get pooled() { return this.idle; }

  destroy() {
    for (const list of this.free.values()) for (const b of list) {
      this.meter.change(0, -b.size);
      b.destroy();
    }
    this.free.clear();
  }
}
