// Explicit bind group layouts, read off each kernel's `@group(0) @binding(N) var<...>` declarations.
// An 'auto' layout cannot give the parameter uniform (binding 0) a dynamic offset; with one, a bind
// group names buffers only, and serves every dispatch on the same buffers whatever parameter slot it
// uses (CommandBatch caches them). Kernels with the same bindings share one layout object, so their
// bind groups are shared too.
import { ShaderStage } from './usage.ts';

type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

const DECLARATION = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*read_write|storage\s*,\s*read)\s*>/g;

/** The kinds of bindings 0, 1, … of a WGSL module: binding 0 the uniform, the rest storage buffers. */
export function bindingKinds(source: string, label: string): BindingKind[] {
  const kinds: BindingKind[] = [];
  for (const [, n, decl] of source.matchAll(DECLARATION)) {
    kinds[Number(n)] = decl === 'uniform' ? 'uniform' : decl.endsWith('read_write') ? 'storage' : 'read-only-storage';
  }
  // Array.from turns holes (a binding number skipped) into undefined, which `some` would pass over
  if (!kinds.length || Array.from(kinds).some((k, i) => k === undefined || (k === 'uniform') !== (i === 0))) {
    throw new Error(`voxgrad webgpu: ${label} must bind its uniform at 0 and storage buffers at 1, 2, … without gaps`);
  }
  return kinds;
}

/** A pipeline with the layout its bind groups must use; `layoutId` names that layout in cache keys. */
export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  layoutId: number;
}

export class LayoutCache {
  private readonly layouts = new Map<string, { layout: GPUBindGroupLayout; pipelineLayout: GPUPipelineLayout; id: number }>();

  constructor(private readonly device: GPUDevice) {}

  get(kinds: BindingKind[]) {
    const key = kinds.join(',');
    let entry = this.layouts.get(key);
    if (!entry) {
      const layout = this.device.createBindGroupLayout({
        label: key,
        entries: kinds.map((type, binding) => ({
          binding, visibility: ShaderStage.COMPUTE, buffer: { type, hasDynamicOffset: binding === 0 },
        })),
      });
      const pipelineLayout = this.device.createPipelineLayout({ label: key, bindGroupLayouts: [layout] });
      entry = { layout, pipelineLayout, id: this.layouts.size };
      this.layouts.set(key, entry);
    }
    return entry;
  }
}
