// voxgrad: the package entry point.
export * from './engine/index.ts';
// The WebAssembly backend registers itself as 'wasm'.
export { setWasmThreads } from './engine/backends/wasm/index.ts';
