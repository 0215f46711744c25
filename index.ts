// voxgrad: the package entry point.
export * from './engine/index.ts';
export * as nn from './nn/index.ts';
export { saveCheckpoint, loadCheckpoint, readCheckpoint } from './nn/checkpoint.ts';
export type { CheckpointExtras, LoadedCheckpoint } from './nn/checkpoint.ts';
export { encodeSafetensors, decodeSafetensors } from './nn/safetensors.ts';
export type { SafeFile, SafeTensor, SafeDType } from './nn/safetensors.ts';
// Readers, writer and metrics that run in browsers as well as Node (bytes in, bytes out). The
// file-system helpers (io/files.ts, datasets/) are Node-only and used by the CLI.
export { parseVolume } from './io/parse.ts';
export type { ParseOptions } from './io/parse.ts';
export { parseNifti, encodeNifti } from './io/nifti.ts';
export { parseNrrd } from './io/nrrd.ts';
export { parseH5 } from './io/h5.ts';
export { FileFormatError } from './io/volume.ts';
export type { Volume, Geometry } from './io/volume.ts';
export { caseMetrics, hd95, asd, assd } from './metrics/medpy.ts';
export type { CaseMetrics } from './metrics/medpy.ts';
export { dice, jaccard } from './metrics/overlap.ts';
export { largestComponent } from './metrics/lcc.ts';
export { normalize, zscore } from './datasets/normalize.ts';
export type { Normalization } from './datasets/normalize.ts';
// Segmenting a scan with a checkpoint (bytes in, label map out; the CLI's predict and the browser
// app use the same two steps): modelFromCheckpoint(decodeSafetensors(bytes, name), name), then
// predictScan(model.net, parseNifti(...), { ...windowDefaults(model), normalization, downsample }).
export { modelFromCheckpoint, windowDefaults } from './infer/model.ts';
export type { SegmentationModel } from './infer/model.ts';
export { predictScan, predictVolume } from './infer/predict.ts';
export type { PredictOptions, ScanOptions, Prediction } from './infer/predict.ts';
export type { Shape3 } from './infer/sliding-window.ts';
// The thread count of the WebAssembly backend (the registry loads it as 'wasm').
export { setWasmThreads } from './engine/backends/wasm/index.ts';
