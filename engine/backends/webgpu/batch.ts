// Records kernels and uploads into one command encoder and submits them together: only a read-back
// (or a full batch) submits. Each dispatch's parameters take one 256-byte slot of a uniform buffer and
// small uploads are staged in an upload buffer; both are filled with queue.writeBuffer right before the
// submit. The queue runs writes and submits in order, so the next batch may reuse both buffers.
import { BufferUsage } from './usage.ts';

export const PARAM_SLOT_BYTES = 256; // minUniformBufferOffsetAlignment's largest allowed value
const PARAM_SLOTS = 1024;
const UPLOAD_BYTES = 1 << 20;

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
  private readonly params = new ArrayBuffer(PARAM_SLOT_BYTES * PARAM_SLOTS);
  private readonly paramU32 = new Uint32Array(this.params);
  private readonly paramF32 = new Float32Array(this.params);
  private readonly paramI32 = new Int32Array(this.params);
  private slots = 0;
  private readonly paramBuf: GPUBuffer;
  private readonly upload = new Uint8Array(UPLOAD_BYTES);
  private uploaded = 0;
  private readonly uploadBuf: GPUBuffer;
  /** Kernels dispatched and command buffers submitted since creation (benchmarks report them). */
  dispatches = 0;
  submits = 0;

  constructor(private readonly device: GPUDevice) {
    this.paramBuf = device.createBuffer({ label: 'params', size: this.params.byteLength,
                                          usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.uploadBuf = device.createBuffer({ label: 'uploads', size: UPLOAD_BYTES,
                                           usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  }

  dispatch(pipeline: GPUComputePipeline, buffers: GPUBuffer[], params: (w: ParamWriter) => void,
           grid: [number, number, number]) {
    if (this.slots === PARAM_SLOTS) this.flush();
    const slot = this.slots++;
    const base = (slot * PARAM_SLOT_BYTES) / 4;
    this.paramU32.fill(0, base, base + PARAM_SLOT_BYTES / 4);
    params(new ParamWriter(this.paramU32, this.paramF32, this.paramI32, base));
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.paramBuf, offset: slot * PARAM_SLOT_BYTES, size: PARAM_SLOT_BYTES } },
        ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      ],
    });
    this.pass ??= this.commands().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(...grid);
    this.dispatches++;
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
    this.endPass();
    this.commands().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  flush() {
    if (!this.encoder) return;
    this.endPass();
    const queue = this.device.queue;
    if (this.slots) queue.writeBuffer(this.paramBuf, 0, this.params, 0, this.slots * PARAM_SLOT_BYTES);
    if (this.uploaded) queue.writeBuffer(this.uploadBuf, 0, this.upload.buffer, 0, this.uploaded);
    queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.slots = 0;
    this.uploaded = 0;
  }

  destroy() {
    this.paramBuf.destroy();
    this.uploadBuf.destroy();
  }

  private commands(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass() {
    this.pass?.end();
    this.pass = null;
  }
}
