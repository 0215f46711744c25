// WGSL sources, bundled as text from shaders/*.wgsl. The only template step is concatenation: a kernel
// is its own file plus the shared helper files it names here (WGSL has no includes; module-scope
// declarations may come in any order, so appending a shared file is enough).
import grid from '../../../shaders/grid.wgsl';
import strided from '../../../shaders/strided.wgsl';
import fill from '../../../shaders/fill.wgsl';
import unary from '../../../shaders/unary.wgsl';
import copy from '../../../shaders/copy.wgsl';
import binary from '../../../shaders/binary.wgsl';
import where from '../../../shaders/where.wgsl';
import nan from '../../../shaders/nan.wgsl';
import reduceRows from '../../../shaders/reduce_rows.wgsl';
import reduceCommon from '../../../shaders/reduce_common.wgsl';
import reduceTree from '../../../shaders/reduce_tree.wgsl';
import reduceTreeSubgroup from '../../../shaders/reduce_tree_subgroup.wgsl';
import gemmCore from '../../../shaders/gemm_core.wgsl';
import matmul from '../../../shaders/matmul.wgsl';
import conv3d from '../../../shaders/conv3d.wgsl';
import channelCommon from '../../../shaders/channel_common.wgsl';
import channelZ from '../../../shaders/channel_z.wgsl';
import channelMoments from '../../../shaders/channel_moments.wgsl';
import channelMomentsMerge from '../../../shaders/channel_moments_merge.wgsl';
import channelAffine from '../../../shaders/channel_affine.wgsl';
import channelAffineBackward from '../../../shaders/channel_affine_backward.wgsl';
import channelAffineBackwardInput from '../../../shaders/channel_affine_backward_input.wgsl';

export const shaderSources = {
  fill: [fill, grid],
  unary: [unary, nan, grid],
  copy: [copy, strided, grid],
  binary: [binary, strided, grid],
  where: [where, nan, strided, grid],
  reduceRows: [reduceRows, nan, grid],
  reduceTree: [reduceTree, reduceCommon, nan, grid],
  // First: `enable subgroups;` must open the module.
  reduceTreeSubgroup: [reduceTreeSubgroup, reduceCommon, nan, grid],
  matmul: [matmul, gemmCore],
  conv3d: [conv3d, gemmCore],
  channelMoments: [channelMoments, channelCommon, grid],
  channelMomentsMerge: [channelMomentsMerge, channelCommon, grid],
  channelAffine: [channelAffine, channelZ, nan, grid],
  channelAffineBackward: [channelAffineBackward, channelCommon, channelZ, nan, grid],
  channelAffineBackwardInput: [channelAffineBackwardInput, channelZ, nan, grid],
} satisfies Record<string, string[]>;

export type ShaderName = keyof typeof shaderSources;
