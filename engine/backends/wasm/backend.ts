// The WebAssembly backend: buffers in the wasm heap, kernels from asm/ run on the thread pool.
import type { Backend, BackendBuffer, BinaryOp, ConvGeometry, ReduceOp, UnaryOp, View } from '../../backend.ts';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward } from './routes.ts';
import type { MemoryStats } from '../../memory-meter.ts';
import type { Device } from './device.ts';
import { MAX_BYTES } from './heap.ts';
import { contiguousStrides, descriptor } from './layout.ts';

class WasmBuffer implements BackendBuffer {
  freed = false;
  constructor(readonly ptr: number, readonly size: number) {}
}

// Op codes shared with asm/elementwise.ts and asm/reduce.ts.
const unaryCodes: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, tanh: 5, sigmoid: 6, relu: 7, square: 8, sign: 9,
  step: 10, pow: 11, clamp: 12, inRange: 13, affine: 14,
};
const binaryCodes: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, lt: 4, le: 5, gt: 6, ge: 7, eq: 8, ne: 9 };
const reduceCodes: Record<ReduceOp, number> = { sum: 0, max: 1 };

const ptr = (b: BackendBuffer) => (b as WasmBuffer).ptr;
const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly memoryLimit = MAX_BYTES;
  private live = 0;

  constructor(readonly device: Device) {}

  /** Threads each kernel runs on. */
  get threads() { return this.device.pool.count; }

  alloc(size: number): BackendBuffer {
    const buf = new WasmBuffer(this.device.heap.alloc(size * 4), size);
    this.live++;
    return buf;
  }

  free(buf: BackendBuffer) {
    const b = buf as WasmBuffer;
    if (b.freed) throw new Error('voxgrad wasm backend (engine/backends/wasm/backend.ts): buffer freed twice');
    b.freed = true;
    this.device.heap.release(b.ptr);
    this.live--;
  }

  write(buf: BackendBuffer, data: Float32Array) {
    this.device.heap.f32.set(data.subarray(0, buf.size), ptr(buf) >>> 2);
  }

  async read(buf: BackendBuffer): Promise<Float32Array> {
    const at = ptr(buf) >>> 2;
    return this.device.heap.f32.slice(at, at + buf.size);
  }

  liveBuffers() { return this.live; }

  memory(): MemoryStats {
    const h = this.device.heap.stats;
    return { live: h.live, peakLive: h.peakLive, reserved: h.extent, peakReserved: h.peakExtent };
  }
  resetMemoryPeaks() { this.device.heap.resetPeaks(); }

  fill(out: BackendBuffer, value: number) {
    if (out.size) this.device.call('fill', [ptr(out), out.size, value], out.size);
  }

  copy(src: BackendBuffer, srcView: View, out: BackendBuffer, outView: View, shape: number[]) {
    const n = elements(shape);
    if (!n) return;
    const desc = this.device.describe(descriptor(shape, [contiguousStrides(shape), srcView.strides, outView.strides]));
    this.device.call('copy', [ptr(src), srcView.offset, ptr(out), outView.offset, n, desc, this.device.scratch], n);
  }

  unary(op: UnaryOp, x: BackendBuffer, out: BackendBuffer, a: number, b: number) {
    if (out.size) this.device.call('unary', [unaryCodes[op], ptr(x), ptr(out), out.size, a, b], out.size);
  }

  binary(op: BinaryOp, a: BackendBuffer, aStrides: number[], b: BackendBuffer, bStrides: number[],
         out: BackendBuffer, outShape: number[]) {
    const n = elements(outShape);
    if (!n) return;
    const desc = this.device.describe(descriptor(outShape, [contiguousStrides(outShape), aStrides, bStrides]));
    this.device.call('binary', [binaryCodes[op], ptr(a), ptr(b), ptr(out), n, desc, this.device.scratch], n);
  }

  where(cond: BackendBuffer, cStrides: number[], a: BackendBuffer, aStrides: number[], b: BackendBuffer,
        bStrides: number[], out: BackendBuffer, outShape: number[]) {
    const n = elements(outShape);
    if (!n) return;
    const desc = this.device.describe(descriptor(outShape, [contiguousStrides(outShape), cStrides, aStrides, bStrides]));
    this.device.call('where', [ptr(cond), ptr(a), ptr(b), ptr(out), n, desc, this.device.scratch], n);
  }

  reduce(op: ReduceOp, x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number) {
    if (outer * inner) this.device.call('reduce', [reduceCodes[op], ptr(x), ptr(out), outer, r, inner], outer * r * inner);
  }

  argmax(x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number) {
    if (outer * inner) this.device.call('argmax', [ptr(x), ptr(out), outer, r, inner], outer * r * inner);
  }

  channelMoments(x: BackendBuffer, stats: BackendBuffer, n: number, c: number, vol: number) {
    if (c) this.device.call('channelMoments', [ptr(x), ptr(stats), n, c, vol], n * c * vol);
  }

  channelAffine(x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer, residual: BackendBuffer | null,
                out: BackendBuffer, n: number, c: number, vol: number, relu: boolean) {
    const total = n * c * vol;
    if (total) {
      this.device.call('channelAffine', [ptr(x), ptr(scale), ptr(shift), residual ? ptr(residual) : 0, ptr(out),
                                         n, c, vol, +relu], total);
    }
  }

  channelAffineBackward(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                        sums: BackendBuffer, n: number, c: number, vol: number, relu: boolean) {
    if (c) {
      this.device.call('channelAffineBackward', [ptr(gy), ptr(x), ptr(scale), ptr(shift), ptr(sums), n, c, vol, +relu],
                       n * c * vol);
    }
  }

  channelAffineBackwardInput(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                             a: BackendBuffer, b: BackendBuffer, gx: BackendBuffer, n: number, c: number, vol: number,
                             relu: boolean) {
    const total = n * c * vol;
    if (total) {
      this.device.call('channelAffineBackwardInput', [ptr(gy), ptr(x), ptr(scale), ptr(shift), ptr(a), ptr(b), ptr(gx),
                                                      n, c, vol, +relu], total);
    }
  }

  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, batch: number, m: number, k: number, n: number,
         transA: boolean, transB: boolean) {
    const dev = this.device;
    if (!batch || !m || !n) return;
    if (!k) return this.fill(out, 0);
    const rows = new Uint32Array(k);
    for (let t = 0; t < batch; t++) {
      // the GEMM wants A row-major [m, k] and B's rows contiguous along n
      const aT = ptr(a) + t * m * k * 4, bT = ptr(b) + t * k * n * 4;
      const am = transA ? dev.transposed(aT, k, m) : aT;
      const bm = transB ? dev.transposed(bT, n, k) : bT;
      for (let p = 0; p < k; p++) rows[p] = bm + p * n * 4;
      const table = dev.table(rows);
      dev.call('gemmRows', [m, n, k, am, k, table, ptr(out) + t * m * n * 4, n, 0], m * n * k);
      dev.release(table);
      if (transA) dev.release(am);
      if (transB) dev.release(bm);
    }
  }

  conv3d(x: BackendBuffer, w: BackendBuffer, y: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer) {
    conv3dForward(this.device, ptr(x), ptr(w), ptr(y), g);
    if (bias) this.addChannelBias(y, bias, g.n, g.cout, g.out);
  }

  conv3dBackwardInput(dy: BackendBuffer, w: BackendBuffer, dx: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer) {
    conv3dBackwardInput(this.device, ptr(dy), ptr(w), ptr(dx), g);
    if (bias) this.addChannelBias(dx, bias, g.n, g.cin, g.in);
  }

  /** y [n, channels, voxels] += bias [channels], in place with the broadcasting add kernel. */
  private addChannelBias(y: BackendBuffer, bias: BackendBuffer, n: number, channels: number, voxels: readonly number[]) {
    const shape = [n, channels, voxels[0] * voxels[1] * voxels[2]];
    this.binary('add', y, contiguousStrides(shape), bias, [0, 1, 0], y, shape);
  }

  conv3dBackwardWeight(x: BackendBuffer, dy: BackendBuffer, dw: BackendBuffer, g: ConvGeometry) {
    conv3dBackwardWeight(this.device, ptr(x), ptr(dy), ptr(dw), g);
  }

  dispose() {
    this.device.pool.dispose();
  }
}
