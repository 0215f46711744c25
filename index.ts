// voxgrad: the package entry point.
export * from './engine/index.ts';
export * as nn from './nn/index.ts';
export { saveCheckpoint, loadCheckpoint } from './nn/checkpoint.ts';
export type { CheckpointExtras, LoadedCheckpoint } from './nn/checkpoint.ts';
export { encodeSafetensors, decodeSafetensors } from './nn/safetensors.ts';
export type { SafeFile, SafeTensor, SafeDType } from './nn/safetensors.ts';
// Readers, writer and metrics that run in browsers as well as Node (bytes in, bytes out). The
// file-system helpers (train/io/files.ts, train/data/) are Node-only and used by the CLI.
export { parseVolume } from './train/io/parse.ts';
export type { ParseOptions } from './train/io/parse.ts';
export { parseNifti, encodeNifti } from './train/io/nifti.ts';
export { parseNrrd } from './train/io/nrrd.ts';
export { parseH5 } from './train/io/h5.ts';
export { FileFormatError } from './train/io/volume.ts';
export type { Volume, Geometry } from './train/io/volume.ts';
export { caseMetrics, hd95, asd, assd } from './train/metrics/medpy.ts';
export type { CaseMetrics } from './train/metrics/medpy.ts';
export { dice, jaccard } from './train/metrics/overlap.ts';
export { largestComponent } from './train/metrics/lcc.ts';
export { normalize, zscore } from './train/data/normalize.ts';
export type { Normalization } from './train/data/normalize.ts';
// The thread count of the WebAssembly backend (the registry loads it as 'wasm').
export { setWasmThreads } from './engine/backends/wasm/index.ts';
