// The training loop, the same for every method: sample a batch, ask the method for its loss,
// backpropagate, check the loss is finite, take the SGD step at lr(t), move the EMA teacher, log,
// validate and checkpoint on schedule. It knows nothing of any method's terms.
import { formatGiB } from '../../engine/memory-meter.ts';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { getBackend } from '../../engine/registry.ts';
import { readCheckpoint, saveCheckpoint, writeCheckpointBytes } from '../../nn/checkpoint.ts';
import { readList } from '../../datasets/list.ts';
import { createMethod } from '../methods/index.ts';
import { loadCases, type TrainCase } from './batches.ts';
import type { TrainConfig } from './config.ts';
import { openConfigDataset } from './config-data.ts';
import { checkGpuMemory, checkIterationMemory } from './memory-estimate.ts';
import { lockRunFolder } from './run-lock.ts';
import { checkCaseCounts, TrainingSession, type IterationLog, type ValidationLog } from './session.ts';
import { NonFiniteLossError } from './step.ts';
import { modelMetadata, trainingIdentity } from './training-state.ts';

export type { IterationLog, ValidationLog } from './session.ts';

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
  /** Skip an iteration whose loss is not finite (logged with "skipped": true) instead of stopping. */
  skipNonFinite?: boolean;
  /** Bytes of GPU buffers an iteration may hold (webgpu); a configuration over it is refused before training. */
  gpuMemory?: number;
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
  const ds = await openConfigDataset(d, list);
  emit({ kind: 'info', message: `loading ${wanted.length} ${what} case(s) from ${d.root}${d.downsample && d.downsample > 1 ? ` at 1/${d.downsample} resolution` : ''}` });
  return loadCases(ds, wanted, d.foreground);
}

/** The config's identity in its checkpoints, data paths relative to the config's folder. */
const identity = (config: TrainConfig) => {
  const from = dirname(resolve(config.file));
  return trainingIdentity(config, (p) => relative(from, p));
};

export async function train(config: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  mkdirSync(opts.outDir, { recursive: true });
  const release = lockRunFolder(opts.outDir);
  try {
    return await trainLocked(config, opts);
  } finally {
    release();
  }
}

async function trainLocked(config: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  const emit = opts.onEvent ?? (() => {});
  const iterations = opts.iterations ?? config.iterations;
  const method = createMethod(config);
  const d = config.data;

  checkCaseCounts(config, method, (await readList(d.train)).length, d.train);
  const backend = getBackend();
  const estimate = checkIterationMemory(config, method, backend);
  if (estimate) {
    emit({ kind: 'info', message: `memory: one iteration needs about ${formatGiB(estimate.bytes)} of ${backend.name}'s ${formatGiB(estimate.limit)}` });
  }
  const gpu = await checkGpuMemory(config, method, backend, opts.gpuMemory);
  if (gpu) {
    emit({ kind: 'info', message: `memory: one iteration holds about ${formatGiB(gpu.bytes)} of GPU buffers` +
                                  `${gpu.budget === undefined ? '' : ` (budget ${formatGiB(gpu.budget)})`}, the largest ` +
                                  `${(gpu.largestBinding / 2 ** 20).toFixed(0)} MiB of the ${(gpu.bufferLimit / 2 ** 20).toFixed(0)} MiB the adapter binds` });
  }
  const cases = await readCases(config, d.train, method.unlabeled ? null : d.labeled, 'training', emit);
  const validation = d.validation && config.validation.every > 0
    ? await readCases(config, d.validation, config.validation.maxCases || null, 'validation', emit)
    : [];
  const session = new TrainingSession(config, cases, validation, d.train, opts.skipNonFinite);

  const checkpoint = join(opts.outDir, 'checkpoint.safetensors');
  const logPath = join(opts.outDir, 'log.jsonl');
  if (opts.resume) {
    if (!existsSync(checkpoint)) throw new Error(`${checkpoint}: no checkpoint to resume from`);
    session.restore(await readCheckpoint(checkpoint), checkpoint, identity(config));
    emit({ kind: 'info', message: `resumed from ${checkpoint} at iteration ${session.iteration}` });
    keepLogBefore(logPath, session.iteration);
  } else {
    writeLog(logPath, '', writeFileSync);
  }

  const began = performance.now();
  let lastValidation: ValidationLog | undefined;
  while (session.iteration < iterations) {
    try {
      const record = await session.next();
      writeLog(logPath, `${JSON.stringify({ kind: 'iteration', ...record })}\n`, appendFileSync);
      emit({ kind: 'iteration', record });
      if (session.validationDue(iterations)) {
        lastValidation = await session.validate();
        writeLog(logPath, `${JSON.stringify({ kind: 'validation', ...lastValidation })}\n`, appendFileSync);
        emit({ kind: 'validation', record: lastValidation });
      }
      if (session.checkpointDue(iterations)) {
        await writeCheckpointBytes(checkpoint, await session.encodeState(identity(config)));
        emit({ kind: 'checkpoint', path: checkpoint, iteration: session.iteration });
      }
    } catch (e) {
      // whatever stopped the run (a non-finite loss, a lost GPU, memory), the last checkpoint is whole
      const kept = existsSync(checkpoint) ? `the last checkpoint (${checkpoint}) is intact: --resume continues from it` : 'no checkpoint was written yet';
      if (e instanceof Error) e.message += `; ${kept}${e instanceof NonFiniteLossError ? ' (--skip-nonfinite skips such steps instead)' : ''}`;
      throw e;
    }
  }
  const model = join(opts.outDir, 'model.safetensors');
  await saveCheckpoint(session.parts.student, model, { metadata: modelMetadata(config, session.parts.student) });
  const result = { checkpoint, model, log: logPath, iterations, seconds: (performance.now() - began) / 1000, lastValidation };
  session.dispose();
  return result;
}

/** A failed write of the log (a full disk) names the log. */
function writeLog(path: string, text: string, write: (path: string, text: string) => void) {
  try {
    write(path, text);
  } catch (e) {
    throw new Error(`cannot write the training log ${path}: ${(e as Error).message}`);
  }
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
