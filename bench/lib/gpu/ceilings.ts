// Phase 3: the ceilings our kernels are measured against. PyTorch's SGEMM (cuBLAS, TF32 off): what the
// card does in FP32. Through our own Dawn, on a device of its own: copy bandwidth (copyBufferToBuffer)
// and a plain vec4 SGEMM (shaders/sgemm_plain.wgsl), what Dawn and the driver let WGSL reach; and the
// backend's own matmul at the same size, what our GEMM core reaches.
import { spawnSync } from 'node:child_process';
import * as vg from '../../../index.ts';
import { acquireGpu } from '../../../engine/backends/webgpu/device.ts';
import { BufferUsage, MapMode } from '../../../engine/backends/webgpu/usage.ts';
import sgemmPlain from '../../../shaders/sgemm_plain.wgsl';
import { python } from '../anchor.ts';
import { timePerCall, tflops, type Settings } from './common.ts';

function torchSgemm(s: Settings, size: number) {
  const r = spawnSync(python(), ['bench/torch_sgemm.py', '--device', s.torchDevice, '--size', String(size), '--reps', String(s.samples)],
                      { encoding: 'utf8' });
  if (r.status !== 0) return { error: `bench/torch_sgemm.py exit ${r.status}: ${r.stderr.trim().split('\n').pop()}` };
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; device: string; seconds: number[] };
  const median = [...j.seconds].sort((a, b) => a - b)[j.seconds.length >> 1];
  return { torch: j.torch, device: j.device, tf32: false, seconds: median, tflops: tflops(2 * size ** 3, median), samples: j.seconds };
}

const fillPattern = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7 + seed * 13) % 17) / 17 - 0.5);

export async function ceilings(s: Settings) {
  const n = s.gemmSize, flop = 2 * n ** 3;
  const torch = torchSgemm(s, n);

  const { device } = await acquireGpu(!s.smoke);
  const wait = () => device.queue.onSubmittedWorkDone();
  const buffer = (bytes: number, usage: number) => device.createBuffer({ size: bytes, usage });
  const storage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

  // copy bandwidth: each byte read once and written once
  const src = buffer(s.copyBytes, storage), dst = buffer(s.copyBytes, storage);
  const copyTime = await timePerCall(() => {
    const e = device.createCommandEncoder();
    e.copyBufferToBuffer(src, 0, dst, 0, s.copyBytes);
    device.queue.submit([e.finish()]);
  }, wait, s.samples, s.perWait);
  src.destroy(); dst.destroy();
  const copy = { bytes: s.copyBytes, seconds: copyTime, gbPerSecond: (2 * s.copyBytes) / copyTime.median / 1e9 };

  // the plain SGEMM, checked on row 0 against float64
  const A = fillPattern(n * n, 1), B = fillPattern(n * n, 2);
  const [a, b, c] = [A, B, null].map((v) => {
    const buf = buffer(n * n * 4, storage);
    if (v) device.queue.writeBuffer(buf, 0, v);
    return buf;
  });
  const dims = buffer(16, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
  device.queue.writeBuffer(dims, 0, Uint32Array.of(n, n, n, 0));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: sgemmPlain }), entryPoint: 'main' } });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0),
                                         entries: [a, b, c, dims].map((buf, binding) => ({ binding, resource: { buffer: buf } })) });
  const plainTime = await timePerCall(() => {
    const e = device.createCommandEncoder(), pass = e.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(n / 64, n / 64);
    pass.end();
    device.queue.submit([e.finish()]);
  }, wait, s.samples, s.perWait);
  const row = buffer(n * 4, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
  const e = device.createCommandEncoder();
  e.copyBufferToBuffer(c, 0, row, 0, n * 4);
  device.queue.submit([e.finish()]);
  await row.mapAsync(MapMode.READ);
  const got = new Float32Array(row.getMappedRange().slice(0));
  row.unmap();
  let worst = 0;
  for (let j = 0; j < Math.min(n, 64); j++) {
    let t = 0, scale = 0;
    for (let q = 0; q < n; q++) { t += A[q] * B[q * n + j]; scale += Math.abs(A[q] * B[q * n + j]); }
    worst = Math.max(worst, Math.abs(got[j] - t) / scale);
  }
  for (const buf of [a, b, c, dims, row]) buf.destroy();
  device.destroy();
  const plain = { size: n, seconds: plainTime, tflops: tflops(flop, plainTime.median), row0RelError: worst, correct: worst < 1e-4 };

  // the backend's matmul (gemm_core.wgsl) at the same size
  await vg.setBackend('webgpu');
  const gpu = vg.getBackend() as import('../../../engine/backends/webgpu/backend.ts').WebGPUBackend;
  const [ga, gb, gc] = [A, B, null].map((v) => { const buf = gpu.alloc(n * n); if (v) gpu.write(buf, v); return buf; });
  const oursTime = await timePerCall(() => gpu.matmul(ga, gb, gc, 1, n, n, n, false, false), () => gpu.sync(), s.samples, s.perWait);
  for (const buf of [ga, gb, gc]) gpu.free(buf);
  const ours = { size: n, seconds: oursTime, tflops: tflops(flop, oursTime.median) };

  return { size: n, timing: `wall clock, ${s.perWait} calls recorded per wait, median of ${s.samples}`, torch, copy, plainWgsl: plain, oursMatmul: ours };
}
