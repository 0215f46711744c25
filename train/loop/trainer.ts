// The training loop, the same for every method: sample a batch, ask the method for its loss,
// backpropagate, check the loss is finite, take the SGD step at lr(t), move the EMA teacher, log,
// validate and checkpoint on schedule. It knows nothing of any method's terms.
import { formatGiB } from '../../engine/memory-meter.ts';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator } from '../../engine/random.ts';
import { getBackend } from '../../engine/registry.ts';
import { saveCheckpoint } from '../../nn/checkpoint.ts';
import { openDataset } from '../data/dataset.ts';
import { readList } from '../data/list.ts';
import { TwoStreamBatchSampler } from '../data/sampler.ts';
import { GeneratorDraws } from '../draws.ts';
import { createMethod } from '../methods/index.ts';
import { Sgd } from '../optim/sgd.ts';
import { emaDecay, learningRate } from '../schedules.ts';
import { loadCases, makeBatch, type TrainCase } from './batches.ts';
import type { TrainConfig } from './config.ts';
import { loadTrainingState, modelMetadata, saveTrainingState, type TrainingParts } from './training-state.ts';
import { checkIterationMemory } from './memory-estimate.ts';
import { createNetworks } from './networks.ts';
import { NonFiniteLossError, trainingStep } from './step.ts';
import { validate } from './validate.ts';
import type { IterationRecord, ValidationRecord } from '../report/curves-svg.ts';

/**
 * The log's records are the curves picture's, with every field the loop knows filled in, and the
 * backend's high-water mark of held bytes during that iteration or validation (the wasm heap's extent,
 * the GPU buffers created; see engine/memory-meter.ts).
 */
export type IterationLog = IterationRecord & { seconds: number; peakBytes: number };
export type ValidationLog = Required<ValidationRecord> & { peakBytes: number };

export type TrainEvent =
  | { kind: 'info'; message: string }
  | { kind: 'iteration'; record: IterationLog }
  | { kind: 'validation'; record: ValidationLog }
  | { kind: 'checkpoint'; path: string; iteration: number };

export interface TrainOptions {
  outDir: string;
  /** Overrides the config's iteration count. */
  iterations?: number;
  /** Continue from outDir/checkpoint.safetensors. */
  resume?: boolean;
  onEvent?: (e: TrainEvent) => void;
}

export interface TrainResult {
  checkpoint: string;
  model: string;
  log: string;
  iterations: number;
  seconds: number;
  lastValidation?: ValidationLog;
}

async function readCases(config: TrainConfig, list: string, count: number | null, what: string,
                         emit: (e: TrainEvent) => void): Promise<TrainCase[]> {
  const d = config.data;
  const ids = await readList(list);
  const wanted = count === null ? ids : ids.slice(0, count);
  const ds = await openDataset({ root: d.root, list, layout: d.layout, normalization: d.normalization, binaryLabels: false });
  emit({ kind: 'info', message: `loading ${wanted.length} ${what} case(s) from ${d.root}` });
  return loadCases(ds, wanted, d.foreground);
}

export async function train(config: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  const emit = opts.onEvent ?? (() => {});
  const iterations = opts.iterations ?? config.iterations;
  const method = createMethod(config);
  const d = config.data;

  const listed = await readList(d.train);
  if (listed.length < d.labeled) {
    throw new Error(`${d.train}: lists ${listed.length} case(s), but the config (${config.file}) asks for ${d.labeled} labelled`);
  }
  if (d.labeled < config.batch.labeled) {
    throw new Error(`${config.file}: ${d.labeled} labelled case(s) cannot fill a labelled batch of ${config.batch.labeled}`);
  }
  const unlabeledBatch = method.unlabeled ? config.batch.unlabeled : 0;
  if (listed.length - d.labeled < unlabeledBatch) {
    throw new Error(`${d.train}: ${listed.length - d.labeled} unlabelled case(s) after the first ${d.labeled}; ` +
                    `method "${config.method}" needs at least ${unlabeledBatch}`);
  }
  const backend = getBackend();
  const estimate = checkIterationMemory(config, method, backend);
  if (estimate) {
    emit({ kind: 'info', message: `memory: one iteration needs about ${formatGiB(estimate.bytes)} of ${backend.name}'s ${formatGiB(estimate.limit)}` });
  }
  const cases = await readCases(config, d.train, method.unlabeled ? null : d.labeled, 'training', emit);
  const validation = d.validation && config.validation.every > 0
    ? await readCases(config, d.validation, config.validation.maxCases || null, 'validation', emit)
    : [];

  const { student, teacher } = createNetworks(config, method.teacher);
  const parts: TrainingParts = {
    config, student, teacher,
    sgd: new Sgd(student.namedParameters(), { momentum: config.optimizer.momentum, weightDecay: config.optimizer.weightDecay }),
    dataGenerator: new Generator(config.seed * 2 + 1),
    drawGenerator: new Generator(config.seed * 2 + 2),
    sampler: null as unknown as TwoStreamBatchSampler,
  };
  parts.sampler = new TwoStreamBatchSampler({ nLabeled: d.labeled, nTotal: cases.length, labeledBatch: config.batch.labeled,
                                              unlabeledBatch }, parts.dataGenerator);
  const draws = new GeneratorDraws(parts.drawGenerator, config.noise);

  mkdirSync(opts.outDir, { recursive: true });
  const checkpoint = join(opts.outDir, 'checkpoint.safetensors');
  const logPath = join(opts.outDir, 'log.jsonl');
  let start = 0;
  if (opts.resume) {
    if (!existsSync(checkpoint)) throw new Error(`${checkpoint}: no checkpoint to resume from`);
    start = await loadTrainingState(checkpoint, parts);
    emit({ kind: 'info', message: `resumed from ${checkpoint} at iteration ${start}` });
    keepLogBefore(logPath, start);
  } else {
    writeFileSync(logPath, '');
  }

  const stepParts = { method, student, teacher, sgd: parts.sgd, draws };
  const began = performance.now();
  let lastValidation: ValidationLog | undefined;
  for (let t = start; t < iterations; t++) {
    const t0 = performance.now();
    backend.resetMemoryPeaks();
    const indices = parts.sampler.next();
    const lr = learningRate(t, config.optimizer);
    let values: Record<string, number>;
    try {
      values = await trainingStep(stepParts, t, lr, emaDecay(t, config.ema.decay),
        () => makeBatch(cases, indices, config.batch.labeled, config.patch, parts.dataGenerator, method.sdf, backend));
    } catch (e) {
      if (e instanceof NonFiniteLossError) {
        e.message += `; the last checkpoint (${existsSync(checkpoint) ? checkpoint : 'none yet'}) is intact`;
      }
      throw e;
    }
    const { loss, mask, ...named } = values;
    const record: IterationLog = { iteration: t, loss, terms: named, lr, ...method.schedule(t), seconds: (performance.now() - t0) / 1000,
                                 peakBytes: backend.memory().peakReserved };
    if (mask !== undefined) record.maskFraction = mask;
    appendFileSync(logPath, `${JSON.stringify({ kind: 'iteration', ...record })}\n`);
    emit({ kind: 'iteration', record });

    const done = t + 1;
    if (validation.length && (done % config.validation.every === 0 || done === iterations)) {
      backend.resetMemoryPeaks();
      const v = await validate(student, validation, config.patch, config.validation.stride);
      lastValidation = { iteration: done, dice: v.dice, cases: v.perCase.length, peakBytes: backend.memory().peakReserved };
      appendFileSync(logPath, `${JSON.stringify({ kind: 'validation', ...lastValidation })}\n`);
      emit({ kind: 'validation', record: lastValidation });
    }
    if (done % config.checkpoint.every === 0 || done === iterations) {
      await saveTrainingState(checkpoint, done, parts);
      emit({ kind: 'checkpoint', path: checkpoint, iteration: done });
    }
  }
  const model = join(opts.outDir, 'model.safetensors');
  await saveCheckpoint(student, model, { metadata: modelMetadata(config, student) });
  const result = { checkpoint, model, log: logPath, iterations, seconds: (performance.now() - began) / 1000, lastValidation };
  student.dispose();
  teacher?.dispose();
  parts.sgd.dispose();
  return result;
}

/** On resume, the log keeps what happened before the checkpoint's iteration, so it reads as one run. */
function keepLogBefore(path: string, iteration: number) {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
    if (!line) return false;
    try {
      const r = JSON.parse(line);
      return r.kind === 'validation' ? r.iteration <= iteration : r.iteration < iteration;
    } catch {
      return false;
    }
  });
  writeFileSync(path, kept.map((l) => `${l}\n`).join(''));
}
