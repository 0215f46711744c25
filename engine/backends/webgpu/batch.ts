// Records kernels and uploads into a command encoder and submits them in batches: at a read-back, or
// once a batch holds DISPATCHES_PER_SUBMIT kernels. Each dispatch's parameters take one 256-byte slot of
// a uniform buffer, bound at a dynamic offset, and small uploads are staged in an upload buffer; both
// are filled with queue.writeBuffer right before the submit. The queue runs writes and submits in
// order, so the next batch may reuse both buffers.
import type { Kernel } from './layouts.ts';
import { BufferUsage } from './usage.ts';

export const PARAM_SLOT_BYTES = 256; // minUniformBufferOffsetAlignment's largest allowed value
/**
 * Kernels per submit: a UG-MCL step records about 6000, and a GPU given none of them until the
 * read-back at the end idles while JavaScript records the rest. 48 hand it work every few milliseconds
 * of recording (0.1–0.2 ms a kernel measured on the 2-core development machine under load), while a
 * submit there costs about 1 ms of JavaScript itself: far fewer kernels per submit would make that
 * the cost.
 */
const DISPATCHES_PER_SUBMIT = 48;
const UPLOAD_BYTES = 1 << 20;
/**
 * Bind groups kept, least recently used dropped first: more than a small UG-MCL step dispatches
 * (about 6000). Its sets of buffers recur only in part from one iteration to the next, since the
 * optimiser's and the EMA's assigns move tensors between pooled buffers.
 */
const MAX_BIND_GROUPS = 8192;

/** Writes a kernel's uniform struct word by word (u32, f32 and i32 share the 4-byte slots). */
export class ParamWriter {
  private at = 0;
  constructor(private readonly u32: Uint32Array, private readonly f32: Float32Array, private readonly i32: Int32Array,
              private readonly base: number) {}
  u(...values: number[]) { for (const v of values) this.u32[this.base + this.at++] = v; return this; }
  f(...values: number[]) { for (const v of values) this.f32[this.base + this.at++] = v; return this; }
  i(...values: number[]) { for (const v of values) this.i32[this.base + this.at++] = v; return this; }
  /** Skips to the next 16-byte boundary, where WGSL places a vec4 or an array of them. */
  align() { this.at = Math.ceil(this.at / 4) * 4; return this; }
}

export class CommandBatch {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly params = new ArrayBuffer(PARAM_SLOT_BYTES * DISPATCHES_PER_SUBMIT);
  private readonly paramU32 = new Uint32Array(this.params);
  private readonly paramF32 = new Float32Array(this.params);
  private readonly paramI32 = new Int32Array(this.params);
  private slots = 0;
  private readonly paramBuf: GPUBuffer;
  private readonly upload = new Uint8Array(UPLOAD_BYTES);
  private uploaded = 0;
  private readonly uploadBuf: GPUBuffer;
  /**
   * Bind groups by layout and buffers. A bind group holds its buffers, which the pool hands out again
   * but destroys only with the backend (then dispose() drops these too); a buffer destroyed earlier
   * would never be passed here again, so its entries could only age out.
   */
  private readonly bindGroupCache = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  /**
   * Since creation, for benchmarks: kernels dispatched, bind groups created, command buffers submitted,
   * and the JavaScript time spent recording kernels and copies and submitting them (flush).
   */
  dispatches = 0;
  bindGroups = 0;
  submits = 0;
  encodeSeconds = 0;
  submitSeconds = 0;

  constructor(private readonly device: GPUDevice) {
    this.paramBuf = device.createBuffer({ label: 'params', size: this.params.byteLength,
                                          usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.uploadBuf = device.createBuffer({ label: 'uploads', size: UPLOAD_BYTES,
                                           usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  }

  dispatch(kernel: Kernel, buffers: GPUBuffer[], params: (w: ParamWriter) => void,
           grid: [number, number, number]) {
    if (this.slots === DISPATCHES_PER_SUBMIT) this.flush();
    const t0 = performance.now();
    const slot = this.slots++;
    const base = (slot * PARAM_SLOT_BYTES) / 4;
    this.paramU32.fill(0, base, base + PARAM_SLOT_BYTES / 4);
    params(new ParamWriter(this.paramU32, this.paramF32, this.paramI32, base));
    this.pass ??= this.commands().beginComputePass();
    this.pass.setPipeline(kernel.pipeline);
    this.pass.setBindGroup(0, this.bindGroup(kernel, buffers), [slot * PARAM_SLOT_BYTES]);
    this.pass.dispatchWorkgroups(...grid);
    this.dispatches++;
    this.encodeSeconds += (performance.now() - t0) / 1000;
  }

  /** Writes data to the start of dst, in order with the kernels recorded so far. */
  write(dst: GPUBuffer, data: Float32Array) {
    if (data.byteLength > UPLOAD_BYTES / 4) {
      this.flush();
      this.device.queue.writeBuffer(dst, 0, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    if (this.uploaded + data.byteLength > UPLOAD_BYTES) this.flush();
    this.upload.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.uploaded);
    this.copy(this.uploadBuf, this.uploaded, dst, 0, data.byteLength);
    this.uploaded += data.byteLength;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number) {
    const t0 = performance.now();
    this.endPass();
    this.commands().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.encodeSeconds += (performance.now() - t0) / 1000;
  }

  flush() {
    if (!this.encoder) return;
    const t0 = performance.now();
    this.endPass();
    const queue = this.device.queue;
    if (this.slots) queue.writeBuffer(this.paramBuf, 0, this.params, 0, this.slots * PARAM_SLOT_BYTES);
    if (this.uploaded) queue.writeBuffer(this.uploadBuf, 0, this.upload.buffer, 0, this.uploaded);
    queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.slots = 0;
    this.uploaded = 0;
    this.submitSeconds += (performance.now() - t0) / 1000;
  }

  destroy() {
    this.bindGroupCache.clear();
    this.paramBuf.destroy();
    this.uploadBuf.destroy();
  }

  private bindGroup(kernel: Kernel, buffers: GPUBuffer[]): GPUBindGroup {
    let key = `${kernel.layoutId}`;
    for (const b of buffers) {
      let id = this.bufferIds.get(b);
      if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
      key += `,${id}`;
    }
    let group = this.bindGroupCache.get(key);
    if (group) {
      this.bindGroupCache.delete(key); // re-inserted below: the Map's order is least recently used first
    } else {
      group = this.device.createBindGroup({
        layout: kernel.layout,
        entries: [
          { binding: 0, resource: { buffer: this.paramBuf, offset: 0, size: PARAM_SLOT_BYTES } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups++;
      if (this.bindGroupCache.size === MAX_BIND_GROUPS) this.bindGroupCache.delete(this.bindGroupCache.keys().next().value!);
    }
    this.bindGroupCache.set(key, group);
    return group;
  }

  private commands(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass() {
    this.pass?.end();
    this.pass = null;
  }
}
