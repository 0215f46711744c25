// A stand-in GPU device for knowing memory before running: the WebGPU backend on it creates, pools
// and frees buffers exactly as on a real device (the pools and the meter are the backend's own), but
// no buffer holds bytes, no kernel runs and every read gives zeros, so values are meaningless. One UG-MCL
// iteration at the paper's LA size takes seconds this way, on any machine, with or without a GPU.
import type { GpuContext } from './device.ts';

/** WebGPU's default limits, which every adapter meets; the buffer sizes unbounded, to see what a run asks. */
const DEFAULT_LIMITS: Record<string, number> = {
  maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER, maxBufferSize: Number.MAX_SAFE_INTEGER,
  maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupSizeZ: 64, maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8, minUniformBufferOffsetAlignment: 256, minStorageBufferOffsetAlignment: 256,
};

function buffer(size: number, usage: number): GPUBuffer {
  return {
    size, usage, label: '', mapState: 'unmapped',
    mapAsync: async () => {},
    getMappedRange: (_offset = 0, bytes = size) => new ArrayBuffer(bytes),
    unmap: () => {},
    destroy: () => {},
  } as unknown as GPUBuffer;
}

function device(limits: Record<string, number>, features: string[]): GPUDevice {
  const pass = { setPipeline() {}, setBindGroup() {}, dispatchWorkgroups() {}, end() {} };
  return {
    limits, features: new Set(features), label: 'accounting',
    lost: new Promise(() => {}),
    queue: { writeBuffer() {}, submit() {}, onSubmittedWorkDone: async () => {} },
    createBuffer: (d: GPUBufferDescriptor) => buffer(d.size, d.usage),
    createShaderModule: () => ({}),
    createBindGroupLayout: () => ({}),
    createPipelineLayout: () => ({}),
    createComputePipeline: () => ({}),
    createBindGroup: () => ({}),
    createCommandEncoder: () => ({ beginComputePass: () => pass, copyBufferToBuffer() {}, finish: () => ({}) }),
    addEventListener() {},
    destroy() {},
  } as unknown as GPUDevice;
}

/**
 * The context of an accounting device, with the limits and features of a real one when given (so that
 * kernels pick the same variants and scratch sizes), the buffer-size limits lifted either way.
 */
export function accountingContext(like?: { limits: GPUSupportedLimits; features: string[]; subgroupMinSize: number }): GpuContext {
  const limits = { ...DEFAULT_LIMITS };
  if (like) for (const name of Object.keys(DEFAULT_LIMITS)) limits[name] = like.limits[name as keyof GPUSupportedLimits] as number;
  limits.maxStorageBufferBindingSize = limits.maxBufferSize = Number.MAX_SAFE_INTEGER;
  const features = like?.features ?? [];
  return { device: device(limits, features), adapterName: 'accounting only: no GPU work, values meaningless', software: false, features,
           subgroupMinSize: like?.subgroupMinSize ?? 4, accounting: true };
}
