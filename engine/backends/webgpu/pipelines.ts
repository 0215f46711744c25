// Compute pipelines, built once per (shader, override constants) and cached for the device's life,
// each on the explicit layout its shader's bindings call for.
import { bindingKinds, type Kernel, LayoutCache } from './layouts.ts';
import { shaderSources, type ShaderName } from './shaders.ts';

export type Constants = Record<string, number | boolean>;

export class PipelineCache {
  private readonly modules = new Map<ShaderName, GPUShaderModule>();
  private readonly pipelines = new Map<string, Kernel>();
  private readonly layouts: LayoutCache;

  constructor(private readonly device: GPUDevice) {
    this.layouts = new LayoutCache(device);
  }

  get(shader: ShaderName, constants: Constants = {}): Kernel {
    const key = `${shader}${JSON.stringify(constants)}`;
    let kernel = this.pipelines.get(key);
    if (!kernel) {
      const { layout, pipelineLayout, id } = this.layouts.get(bindingKinds(this.source(shader), shader));
      const pipeline = this.device.createComputePipeline({
        label: key,
        layout: pipelineLayout,
        compute: {
          module: this.module(shader),
          entryPoint: 'main',
          constants: Object.fromEntries(Object.entries(constants).map(([k, v]) => [k, Number(v)])),
        },
      });
      kernel = { pipeline, layout, layoutId: id };
      this.pipelines.set(key, kernel);
    }
    return kernel;
  }

  get size() { return this.pipelines.size; }

  private module(shader: ShaderName): GPUShaderModule {
    let module = this.modules.get(shader);
    if (!module) {
      module = this.device.createShaderModule({ label: shader, code: this.source(shader) });
      this.modules.set(shader, module);
    }
    return module;
  }

  private source(shader: ShaderName) { return shaderSources[shader].join('\n'); }
}
