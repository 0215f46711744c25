// Finds a WebGPU adapter (browser: navigator.gpu; Node: the `webgpu` package, i.e. Dawn) and opens a
// device with the adapter's own limits, which are not granted unless requested.
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const OPTIONAL_FEATURES: GPUFeatureName[] = ['subgroups', 'shader-f16', 'timestamp-query'];
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
] as const;

export interface GpuContext {
  device: GPUDevice;
  /** e.g. "nvidia ampere (NVIDIA GeForce RTX 3080)" or "google swiftshader (SwiftShader driver 5.0.0)". */
  adapterName: string;
  software: boolean;
  features: string[];
  /** Smallest subgroup size the adapter may use (4 where it does not say). */
  subgroupMinSize: number;
  /** A stand-in device that only accounts for memory (accounting-device.ts). */
  accounting?: boolean;
  /**
   * A binding limit below the adapter's, in bytes (tests of the refusal on small patches: a device
   * cannot be asked for less than WebGPU's default of 128 MiB).
   */
  maxBindingBytes?: number;
}

function describe(a: GPUAdapter): string {
  const { vendor, architecture, device, description } = a.info;
  const detail = description || device;
  return `${vendor || 'unknown vendor'} ${architecture || ''}`.trim() + (detail ? ` (${detail})` : '');
}

/** CPU emulations: Dawn's fallback flag, or a software Vulkan/D3D driver by name. */
function isSoftware(a: GPUAdapter): boolean {
  const info = a.info;
  return info.isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|warp|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
}

/** Dawn instances; one that is garbage-collected takes its devices down with it (a crash in Dawn). */
const dawnInstances: GPU[] = [];

/**
 * Linux exposes every GPU driver through a device node (DRM render nodes, NVIDIA's, WSL's); without one
 * there is no hardware adapter to find, and asking Dawn anyway only makes the Vulkan drivers print
 * warnings. Elsewhere the only way to know is to ask.
 */
async function mayHaveHardwareGpu(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  const { existsSync, readdirSync } = await import('node:fs');
  const dri = existsSync('/dev/dri') && readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  return dri || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

async function nodeAdapter(hardwareOnly: boolean): Promise<GPUAdapter | null> {
  if (hardwareOnly && !(await mayHaveHardwareGpu())) return null;
  const { create } = await import('webgpu');
  const instance = () => {
    dawnInstances.push(create([]));
    return dawnInstances[dawnInstances.length - 1];
  };
  const found = await instance().requestAdapter({ powerPreference: 'high-performance' });
  if (found || hardwareOnly) return found;
  // Vulkan reads VK_ICD_FILENAMES when Dawn creates an instance, so a second instance sees SwiftShader.
  const { existsSync } = await import('node:fs');
  if (process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return null;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return instance().requestAdapter();
}

export async function acquireGpu(hardwareOnly: boolean): Promise<GpuContext> {
  const inBrowser = typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu !== undefined;
  const adapter = inBrowser
    ? await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' })
    : await nodeAdapter(hardwareOnly);
  if (!adapter) {
    throw new Error(inBrowser
      ? 'voxgrad webgpu: navigator.gpu gave no adapter'
      : `voxgrad webgpu: no WebGPU adapter (no GPU driver found${hardwareOnly ? '' : `, and no SwiftShader at ${SWIFTSHADER_ICD}: apt-get install chromium libvulkan1`})`);
  }
  const software = isSoftware(adapter);
  if (hardwareOnly && software) {
    throw new Error(`voxgrad webgpu: the only adapter is a software one (${describe(adapter)}), refused for hardwareOnly`);
  }
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  return { device, adapterName: describe(adapter), software, features, subgroupMinSize: adapter.info.subgroupMinSize || 4 };
}
