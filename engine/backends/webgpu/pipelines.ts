// Compute pipelines, built once per (shader, override constants) and cached for the device's life.
import { shaderSources, type ShaderName } from './shaders.ts';

export type Constants = Record<string, number | boolean>;

export class PipelineCache {
  private readonly modules = new Map<ShaderName, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get(shader: ShaderName, constants: Constants = {}): GPUComputePipeline {
    const key = `${shader}${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: {
          module: this.module(shader),
          entryPoint: 'main',
          constants: Object.fromEntries(Object.entries(constants).map(([k, v]) => [k, Number(v)])),
        },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  get size() { return this.pipelines.size; }

  private module(shader: ShaderName): GPUShaderModule {
    let module = this.modules.get(shader);
    if (!module) {
      module = this.device.createShaderModule({ label: shader, code: shaderSources[shader].join('\n') });
      this.modules.set(shader, module);
    }
    return module;
  }
}
