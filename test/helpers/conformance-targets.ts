// What the conformance suite needs to know of each backend beyond the Backend interface: its conv routes
// (by name, and a count of those that ran), how to force a route no case would otherwise take, and the
// variants of its kernels that the reductions run under. A backend added to the registry adds an entry.
import type { Backend, BackendBuffer, ConvGeometry } from '../../engine/backend.ts';
import type { WasmBackend } from '../../engine/backends/wasm/backend.ts';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward, convRouteNames as wasmRouteNames } from '../../engine/backends/wasm/routes.ts';
import { convRouteNames as webgpuRouteNames, type WebGPUBackend } from '../../engine/backends/webgpu/backend.ts';

export type ConvPass = 'forward' | 'inputGrad' | 'weightGrad';
export const convPasses: ConvPass[] = ['forward', 'inputGrad', 'weightGrad'];

export interface ConformanceTarget {
  /** The suite's data seed (each backend keeps the stream it had in its own suite). */
  seed: number;
  routeNames(pass: ConvPass): readonly string[];
  /** How many times each route ran, keyed `${pass} ${route}`. */
  routeCounts(b: Backend): ReadonlyMap<string, number>;
  forceConvRoute?(b: Backend, pass: ConvPass, route: string, a: BackendBuffer, w: BackendBuffer, out: BackendBuffer,
                  g: ConvGeometry): void;
  /** Settings the reductions run under, each as [label, apply]; restore() puts back the default. */
  reduceVariants?(b: Backend): { variants: [string, () => void][]; restore(): void };
}

const address = (b: BackendBuffer) => (b as unknown as { ptr: number }).ptr;
const wasmPasses = { forward: conv3dForward, inputGrad: conv3dBackwardInput, weightGrad: conv3dBackwardWeight };

export const conformanceTargets: Record<string, ConformanceTarget> = {
  wasm: {
    seed: 12345,
    routeNames: wasmRouteNames,
    routeCounts: (b) => (b as WasmBackend).device.convRoutes,
    // Winograd is the one route a flag forces: the cases that need it run it where the choice would not.
    forceConvRoute(b, pass, route, a, w, out, g) {
      if (route !== 'winograd') throw new Error(`wasm forces only the winograd route, not ${route}`);
      wasmPasses[pass]((b as WasmBackend).device, address(a), address(w), address(out), g, true);
    },
  },
  webgpu: {
    seed: 11,
    routeNames: webgpuRouteNames,
    routeCounts: (b) => (b as WebGPUBackend).convRoutes,
    // with subgroups where the device has them (the default), and without
    reduceVariants(b) {
      const gpu = b as WebGPUBackend, has = gpu.features.includes('subgroups');
      const set = (on: boolean) => () => { gpu.subgroupReduce = on; };
      const variants: [string, () => void][] = [['subgroup tree', set(true)], ['workgroup tree', set(false)]];
      return { variants: has ? variants : variants.slice(1), restore: set(has) };
    },
  },
};
