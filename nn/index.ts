// voxgrad.nn: PyTorch-style layers and the reference V-Net.
export { Module } from './module.ts';
export type { StateDType, StateEntry, HostTensor } from './module.ts';
export { Conv3d, ConvTranspose3d } from './conv.ts';
export type { ConvLayerOptions } from './conv.ts';
export { BatchNorm3d, InstanceNorm3d, GroupNorm } from './norm.ts';
export { ReLU } from './activation.ts';
export { Dropout3d } from './dropout.ts';
export { Sequential } from './sequential.ts';
export type { Layer } from './sequential.ts';
export { VNet } from './vnet.ts';
export type { VNetOptions, VNetForwardOptions, VNetOutput } from './vnet.ts';
export type { Normalization } from './vnet-blocks.ts';
