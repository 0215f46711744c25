// voxgrad: the package entry point.
export * from './engine/index.ts';
export * as nn from './nn/index.ts';
export { saveCheckpoint, loadCheckpoint } from './nn/checkpoint.ts';
export type { CheckpointExtras, LoadedCheckpoint } from './nn/checkpoint.ts';
export { encodeSafetensors, decodeSafetensors } from './nn/safetensors.ts';
export type { SafeFile, SafeTensor, SafeDType } from './nn/safetensors.ts';
