// Phase 1: what the machine offers (adapter, its limits, features and subgroup sizes, the driver) and
// what the webgpu backend made of it. A software adapter is refused outside --smoke: figures from a
// CPU emulation of Vulkan would say nothing about the GPU.
import { spawnSync } from 'node:child_process';
import * as vg from '../../../index.ts';
import type { WebGPUBackend } from '../../../engine/backends/webgpu/backend.ts';
import type { Settings } from './common.ts';

const LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage', 'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxBindGroups',
  'minStorageBufferOffsetAlignment',
] as const;

/** nvidia-smi's view of the driver and the card, where the tool is there. */
function nvidiaSmi(): Record<string, string> | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit', '--format=csv,noheader'],
                      { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return null;
  const [name, driver, memory, smClock, power] = r.stdout.trim().split('\n')[0].split(',').map((v) => v.trim());
  return { name, driver, memory, smClock, power };
}

/** Kept: a garbage-collected Dawn instance takes its adapters down with it. */
const instances: GPU[] = [];
const instance = (create: (flags: string[]) => GPU) => { instances.push(create([])); return instances[instances.length - 1]; };

export async function environment(s: Settings) {
  await vg.setBackend('webgpu');
  const b = vg.getBackend() as WebGPUBackend;
  // the backend's adapter, asked for again: setBackend has pointed Vulkan at SwiftShader where it fell back
  const { create } = await import('webgpu');
  const adapter = await instance(create).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('gpu-diag: Dawn gave the backend an adapter but not this second request');
  const limits = Object.fromEntries(LIMITS.map((l) => [l, (adapter.limits as unknown as Record<string, number>)[l]]));
  const info = adapter.info;
  const body = {
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
               isFallbackAdapter: info.isFallbackAdapter ?? null },
    backend: { adapterName: b.adapterName, software: b.software, subgroupReduce: b.subgroupReduce },
    subgroups: { min: info.subgroupMinSize ?? null, max: info.subgroupMaxSize ?? null },
    features: [...adapter.features].sort(),
    deviceFeatures: b.features,
    timestampQuery: b.features.includes('timestamp-query'),
    limits,
    driver: { nvidiaSmi: nvidiaSmi(), vkIcdFilenames: process.env.VK_ICD_FILENAMES ?? null },
    node: process.version,
    refused: b.software && !s.smoke,
    softwareAllowed: s.smoke ? 'yes: --smoke runs on a software adapter (SwiftShader) on purpose; its figures are not GPU figures' : 'no',
  };
  return body;
}
