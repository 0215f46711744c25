// One training run in memory, the same in the CLI and in the browser's worker: the networks, the
// optimiser, both generators and the batch sampler over cases already loaded, stepped one iteration
// at a time. It reads and writes no files: the caller decides where the log, the checkpoints and
// the model go, and when to pause.
import type { Backend } from '../../engine/backend.ts';
import { Generator } from '../../engine/random.ts';
import { getBackend } from '../../engine/registry.ts';
import { encodeCheckpoint } from '../../nn/checkpoint.ts';
import type { SafeFile } from '../../nn/safetensors.ts';
import { TwoStreamBatchSampler } from '../data/sampler.ts';
import { GeneratorDraws } from '../draws.ts';
import { createMethod } from '../methods/index.ts';
import type { Method } from '../methods/method.ts';
import { Sgd } from '../optim/sgd.ts';
import type { IterationRecord, ValidationRecord } from './records.ts';
import { emaDecay, learningRate } from '../schedules.ts';
import { makeBatch, type TrainCase } from './batches.ts';
import type { TrainConfig } from './config.ts';
import { createNetworks } from './networks.ts';
import { NonFiniteLossError, trainingStep, type StepParts } from './step.ts';
import { encodeTrainingState, modelMetadata, restoreTrainingState, type TrainingParts } from './training-state.ts';
import { validate } from './validate.ts';

/**
 * The log's records are the curves picture's, with every field the loop knows filled in, and the
 * backend's high-water mark of held bytes during that iteration or validation (the wasm heap's extent,
 * the GPU buffers created; see engine/memory-meter.ts).
 */
export type IterationLog = IterationRecord & { seconds: number; peakBytes: number; skipped?: true };
export type ValidationLog = Required<ValidationRecord> & { peakBytes: number };

/** The training cases a config needs: its first `data.labeled` are labelled, the rest unlabelled. */
export function checkCaseCounts(config: TrainConfig, method: Method, count: number, source: string) {
  const d = config.data;
  if (count < d.labeled) throw new Error(`${source}: lists ${count} case(s), but the config (${config.file}) asks for ${d.labeled} labelled`);
  if (d.labeled < config.batch.labeled) {
    throw new Error(`${config.file}: ${d.labeled} labelled case(s) cannot fill a labelled batch of ${config.batch.labeled}`);
  }
  const unlabeledBatch = method.unlabeled ? config.batch.unlabeled : 0;
  if (count - d.labeled < unlabeledBatch) {
    throw new Error(`${source}: ${count - d.labeled} unlabelled case(s) after the first ${d.labeled}; ` +
                    `method "${config.method}" needs at least ${unlabeledBatch}`);
  }
}

export class TrainingSession {
  readonly method: Method;
  readonly parts: TrainingParts;
  readonly backend: Backend;
  /** The next iteration to run (0-based): iterations done so far. */
  iteration = 0;
  private readonly step: StepParts;

  /** Iterations whose loss was not finite and whose update was skipped (with skipNonFinite). */
  skipped = 0;

  /**
   * `cases` hold the labelled cases first (labels of the rest are not read); `validation` may be empty.
   * With `skipNonFinite`, an iteration whose loss is not finite changes nothing and is logged as
   * skipped; without, it throws NonFiniteLossError.
   */
  constructor(readonly config: TrainConfig, readonly cases: TrainCase[], readonly validation: TrainCase[], source = config.data.train,
              readonly skipNonFinite = false) {
    this.method = createMethod(config);
    checkCaseCounts(config, this.method, cases.length, source);
    this.backend = getBackend();
    const { student, teacher } = createNetworks(config, this.method.teacher);
    const sgd = new Sgd(student.namedParameters(), { momentum: config.optimizer.momentum, weightDecay: config.optimizer.weightDecay });
    const dataGenerator = new Generator(config.seed * 2 + 1), drawGenerator = new Generator(config.seed * 2 + 2);
    const sampler = new TwoStreamBatchSampler({ nLabeled: config.data.labeled, nTotal: cases.length, labeledBatch: config.batch.labeled,
                                                unlabeledBatch: this.method.unlabeled ? config.batch.unlabeled : 0 }, dataGenerator);
    this.parts = { config, student, teacher, sgd, dataGenerator, drawGenerator, sampler };
    this.step = { method: this.method, student, teacher, sgd, draws: new GeneratorDraws(drawGenerator, config.noise), restoreBuffers: skipNonFinite };
  }

  /** Runs iteration `this.iteration` and advances; a non-finite loss changes nothing and throws, or is skipped (see the constructor). */
  async next(): Promise<IterationLog> {
    const t = this.iteration, c = this.config, be = this.backend;
    const t0 = performance.now();
    be.resetMemoryPeaks();
    const indices = this.parts.sampler.next();
    const lr = learningRate(t, c.optimizer);
    let values: Record<string, number>, skipped = false;
    try {
      values = await trainingStep(this.step, t, lr, emaDecay(t, c.ema.decay),
        () => makeBatch(this.cases, indices, c.batch.labeled, c.patch, this.parts.dataGenerator, this.method.sdf, be));
    } catch (e) {
      if (!(e instanceof NonFiniteLossError && this.skipNonFinite)) throw e;
      values = e.values;
      skipped = true;
      this.skipped++;
    }
    const { loss, mask, ...named } = values;
    const record: IterationLog = { iteration: t, loss, terms: named, lr, ...this.method.schedule(t), seconds: (performance.now() - t0) / 1000,
                                   peakBytes: be.memory().peakReserved };
    if (mask !== undefined) record.maskFraction = mask;
    if (skipped) record.skipped = true;
    this.iteration = t + 1;
    return record;
  }

  /** Whether the schedule validates after the iterations done so far, the last of `total` always. */
  validationDue(total: number): boolean {
    const done = this.iteration;
    return this.validation.length > 0 && done > 0 && (done % this.config.validation.every === 0 || done === total);
  }

  checkpointDue(total: number): boolean {
    const done = this.iteration;
    return done > 0 && (done % this.config.checkpoint.every === 0 || done === total);
  }

  /** The student's validation Dice on the validation cases now. */
  async validate(): Promise<ValidationLog> {
    this.backend.resetMemoryPeaks();
    const c = this.config;
    const v = await validate(this.parts.student, this.validation, c.patch, c.validation.stride);
    return { iteration: this.iteration, dice: v.dice, cases: v.perCase.length, peakBytes: this.backend.memory().peakReserved };
  }

  /** A training checkpoint of the state now (see training-state.ts). */
  encodeState(identity: string): Promise<Uint8Array> {
    return encodeTrainingState(this.iteration, this.parts, identity);
  }

  /** Continues from a training checkpoint of the same configuration. */
  restore(file: SafeFile, source: string, identity: string) {
    this.iteration = restoreTrainingState(file, source, this.parts, identity);
  }

  /** The student alone, self-describing, as `voxgrad predict` and the app load it. */
  encodeModel(): Promise<Uint8Array> {
    return encodeCheckpoint(this.parts.student, { metadata: modelMetadata(this.config, this.parts.student) });
  }

  dispose() {
    this.parts.student.dispose();
    this.parts.teacher?.dispose();
    this.parts.sgd.dispose();
  }
}
