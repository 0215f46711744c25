// A training checkpoint: the student under PyTorch's names (so predict/evaluate and PyTorch load it
// as any V-Net checkpoint), the EMA teacher and the SGD momentum as tensor groups, and in the
// metadata everything else a resumed run needs to continue bit for bit: the next iteration, both
// generators' states, the batch sampler's state, and the identity of the configuration it belongs to.
// Bytes in and out, so the CLI's files and the browser's downloads are the same format.
import { applyCheckpoint, encodeCheckpoint } from '../../nn/checkpoint.ts';
import type { Module } from '../../nn/module.ts';
import type { SafeFile } from '../../nn/safetensors.ts';
import type { VNet } from '../../nn/vnet.ts';
import type { Generator } from '../../engine/random.ts';
import type { Tensor } from '../../engine/tensor.ts';
import type { TwoStreamBatchSampler } from '../data/sampler.ts';
import type { Sgd } from '../optim/sgd.ts';
import type { TrainConfig } from './config.ts';

export interface TrainingParts {
  config: TrainConfig;
  student: VNet;
  teacher: VNet | null;
  sgd: Sgd;
  dataGenerator: Generator;
  drawGenerator: Generator;
  sampler: TwoStreamBatchSampler;
}

/** The metadata that makes a checkpoint self-describing for `voxgrad predict`/`evaluate`. */
export function modelMetadata(config: TrainConfig, student: VNet): Record<string, string> {
  const { seed: _seed, ...architecture } = student.config;
  return {
    config: JSON.stringify(architecture),
    patch: JSON.stringify(config.patch),
    stride: JSON.stringify(config.validation.stride),
    method: config.method,
    // Absent at full resolution, so the files of models trained there keep their bytes.
    ...(config.data.downsample && config.data.downsample > 1 ? { downsample: String(config.data.downsample) } : {}),
  };
}

/**
 * What must agree between a checkpoint and the config resuming it: everything but the iteration
 * count and the validation and checkpoint settings. `relative` rewrites the data paths (the CLI makes
 * them relative to the config's folder, so a checkout moved elsewhere resumes its checkpoints).
 */
export function trainingIdentity(config: TrainConfig, relative: (path: string) => string = (p) => p): string {
  const { file: _file, iterations: _iterations, validation: _validation, checkpoint: _checkpoint, ...rest } = config;
  const d = rest.data;
  const data = { ...d, root: relative(d.root), train: relative(d.train), validation: d.validation ? relative(d.validation) : d.validation };
  return JSON.stringify({ ...rest, data });
}

export async function encodeTrainingState(iteration: number, parts: TrainingParts, identity: string): Promise<Uint8Array> {
  const groups: Record<string, Module | Map<string, Tensor>> = { momentum: parts.sgd.momentum };
  if (parts.teacher) groups.teacher = parts.teacher;
  return encodeCheckpoint(parts.student, {
    groups,
    metadata: {
      ...modelMetadata(parts.config, parts.student),
      training: identity,
      iteration: String(iteration),
      generators: JSON.stringify({ data: parts.dataGenerator.getState(), draws: parts.drawGenerator.getState() }),
      sampler: JSON.stringify(parts.sampler.getState()),
    },
  });
}

/** Restores every part from a decoded checkpoint (`source` names it in errors); returns the iteration to continue from. */
export function restoreTrainingState(file: SafeFile, source: string, parts: TrainingParts, identity: string): number {
  const meta = file.metadata;
  for (const key of ['training', 'iteration', 'generators', 'sampler']) {
    if (meta[key] === undefined) throw new Error(`${source}: not a training checkpoint (no "${key}" metadata); resuming needs one written by voxgrad's training`);
  }
  if (meta.training !== identity) {
    throw new Error(`${source}: was written for a different configuration than ${parts.config.file} ` +
                    '(only iterations, validation and checkpoint settings may change on resume)');
  }
  const { groups } = applyCheckpoint(parts.student, file, source);
  if (parts.teacher) {
    const teacher = groups.get('teacher');
    if (!teacher) throw new Error(`${source}: has no EMA teacher, which method "${parts.config.method}" needs`);
    parts.teacher.loadStateDict(teacher, `${source} (teacher)`);
  }
  parts.sgd.load(groups.get('momentum') ?? new Map(), source);
  const gens = JSON.parse(meta.generators);
  parts.dataGenerator.setState(gens.data);
  parts.drawGenerator.setState(gens.draws);
  parts.sampler.setState(JSON.parse(meta.sampler));
  const iteration = Number(meta.iteration);
  if (!Number.isInteger(iteration) || iteration < 0) throw new Error(`${source}: bad "iteration" metadata ${meta.iteration}`);
  return iteration;
}
