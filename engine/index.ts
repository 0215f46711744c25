// The engine's public API.
export { Tensor } from './tensor.ts';
export type { Backend, BackendBuffer, ConvGeometry } from './backend.ts';
export { setBackend, getBackend, registerBackend, registeredBackends, disposeBackends } from './registry.ts';
export type { BackendName, BackendFactory } from './registry.ts';
export { Generator } from './random.ts';
export { scope, keep, setActivationRecompute } from './memory.ts';
export { censusAtPeak } from './memory-census.ts';
export type { Census, CensusRow } from './memory-census.ts';
export { checkpoint } from './recompute.ts';
export type { MemoryStats } from './memory-meter.ts';
export { noGrad, isGradEnabled } from './autograd.ts';
export { grad, valueAndGrad } from './backward.ts';
export { tensor, zeros, ones, full, zerosLike, onesLike, rand, randn, arange } from './ops/create.ts';
export {
  add, sub, mul, div, neg, exp, log, sqrt, square, abs, tanh, sigmoid, relu, clamp, pow,
  lt, le, gt, ge, eq, ne, where, detach,
} from './ops/elementwise.ts';
export type { TensorLike } from './ops/kernels.ts';
export { sum, mean, max, argmax } from './ops/reduce.ts';
export { reshape, unsqueeze, squeeze, permute, transpose, slice, pad, concat, flip, rot90 } from './ops/shape.ts';
export { expand, repeat } from './ops/broadcast.ts';
export type { Range } from './ops/shape.ts';
export { matmul } from './ops/matmul.ts';
export { conv3d, convTranspose3d } from './ops/conv.ts';
export type { ConvOptions, ConvTransposeOptions } from './ops/conv.ts';
export { softmax, logSoftmax } from './ops/softmax.ts';
export { batchNorm, batchNorm3d, instanceNorm3d, groupNorm } from './ops/norm.ts';
export type { BatchNormOptions } from './ops/norm.ts';
export { dropout3d, channelMask } from './ops/dropout.ts';
export type { DropoutOptions } from './ops/dropout.ts';
export { crossEntropy, mse } from './ops/loss.ts';
