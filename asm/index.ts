// The module's exports: every kernel the wasm backend calls (engine/backends/wasm/kernels.ts lists them).
export { heapBase } from './common';
export { fill, unary, binary, where, copy } from './elementwise';
export { reduce, argmax } from './reduce';
export { channelMoments, channelAffine, channelAffineBackward, channelAffineBackwardInput } from './norm';
export { gemmRows, gemmFrame, gemmDot, sumChunks, gemmGather, packRows4, patchConv, patchConvInput, patchConvWeight, patchConvWeightChunks } from './gemm';
export { winoInput, winoWeight, winoConv, winoProduct, winoOutput, winoGradOutput, winoDot, winoGradDirect, winoTransposeU, winoGradBlocks, winoWeightGrad } from './winograd';
export { gemmGatherChannels } from './channel-tiles';
export { window3d, windowCopies, im2col, col2im, flipTaps, gatherCols, scatterCols } from './conv';
