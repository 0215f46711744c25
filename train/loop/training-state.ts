// A training checkpoint: the student under PyTorch's names (so predict/evaluate and PyTorch load it
// as any V-Net checkpoint), the EMA teacher and the SGD momentum as tensor groups, and in the
// metadata everything else a resumed run needs to continue bit for bit: the next iteration, both
// generators' states and the batch sampler's state.
import { dirname, relative, resolve } from 'node:path';
import { applyCheckpoint, readCheckpoint, saveCheckpoint } from '../../nn/checkpoint.ts';
import type { Module } from '../../nn/module.ts';
import type { VNet } from '../../nn/vnet.ts';
import type { Generator } from '../../engine/random.ts';
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
  };
}

/**
 * What must agree between a checkpoint and the config resuming it. Data paths count relative to the
 * config's folder, so that a checkout moved or cloned elsewhere resumes its committed checkpoints.
 */
function fingerprint(config: TrainConfig): string {
  const { file, iterations: _iterations, validation: _validation, checkpoint: _checkpoint, ...rest } = config;
  const from = dirname(resolve(file)), d = rest.data;
  const data = { ...d, root: relative(from, d.root), train: relative(from, d.train),
                 validation: d.validation ? relative(from, d.validation) : d.validation };
  return JSON.stringify({ ...rest, data });
}

export async function saveTrainingState(path: string, iteration: number, parts: TrainingParts) {
  const groups: Record<string, Module | Map<string, import('../../engine/tensor.ts').Tensor>> = { momentum: parts.sgd.momentum };
  if (parts.teacher) groups.teacher = parts.teacher;
  await saveCheckpoint(parts.student, path, {
    groups,
    metadata: {
      ...modelMetadata(parts.config, parts.student),
      training: fingerprint(parts.config),
      iteration: String(iteration),
      generators: JSON.stringify({ data: parts.dataGenerator.getState(), draws: parts.drawGenerator.getState() }),
      sampler: JSON.stringify(parts.sampler.getState()),
    },
  });
}

/** Restores every part from `path`; returns the iteration to continue from. */
export async function loadTrainingState(path: string, parts: TrainingParts): Promise<number> {
  const file = await readCheckpoint(path);
  const meta = file.metadata;
  for (const key of ['training', 'iteration', 'generators', 'sampler']) {
    if (meta[key] === undefined) throw new Error(`${path}: not a training checkpoint (no "${key}" metadata); --resume needs one written by voxgrad train`);
  }
  if (meta.training !== fingerprint(parts.config)) {
    throw new Error(`${path}: was written for a different configuration than ${parts.config.file} ` +
                    '(only iterations, validation and checkpoint settings may change on --resume)');
  }
  const { groups } = applyCheckpoint(parts.student, file, path);
  if (parts.teacher) {
    const teacher = groups.get('teacher');
    if (!teacher) throw new Error(`${path}: has no EMA teacher, which method "${parts.config.method}" needs`);
    parts.teacher.loadStateDict(teacher, `${path} (teacher)`);
  }
  parts.sgd.load(groups.get('momentum') ?? new Map(), path);
  const gens = JSON.parse(meta.generators);
  parts.dataGenerator.setState(gens.data);
  parts.drawGenerator.setState(gens.draws);
  parts.sampler.setState(JSON.parse(meta.sampler));
  const iteration = Number(meta.iteration);
  if (!Number.isInteger(iteration) || iteration < 0) throw new Error(`${path}: bad "iteration" metadata ${meta.iteration}`);
  return iteration;
}
