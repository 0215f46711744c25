// voxgrad train: one config, one output folder with the log, checkpoints, the final model and a
// picture of the curves; a live progress line on a terminal, plain lines in a log.
import { formatGiB } from '../engine/memory-meter.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.ts';
import { setBackend } from '../engine/registry.ts';
import { setWasmThreads } from '../engine/backends/wasm/index.ts';
import { loadConfig } from '../train/loop/config-file.ts';
import type { TrainConfig } from '../train/loop/config.ts';
import { train, type IterationLog, type TrainEvent, type TrainResult, type ValidationLog } from '../train/loop/trainer.ts';
import { trainingCurvesSvg } from '../report/curves-svg.ts';
import { createProgress } from './progress.ts';

const usage = `usage: voxgrad train --config FILE [--backend B] [--threads N] [--out DIR] [--iterations N] [--resume]
                     [--skip-nonfinite] [--gpu-memory G]
  FILE: a JSON config (configs/*.json: method supervised|mt|uamt|dtc|ugmcl, data, patch, schedules).
  Writes DIR/log.jsonl (every iteration), DIR/checkpoint.safetensors (student, EMA teacher, optimiser
  and random state; every checkpoint.every iterations), DIR/model.safetensors (the student, PyTorch
  names) and DIR/curves.svg. DIR defaults to runs/<config name>.
  --backend B      auto (default), wasm, webgpu or ref
  --threads N      wasm threads (default: all cores)
  --iterations N   stop after N iterations instead of the config's
  --resume         continue from DIR/checkpoint.safetensors
  --skip-nonfinite an iteration whose loss is NaN or infinite changes nothing and is logged as skipped
                   (default: the run stops there, its last checkpoint intact)
  --gpu-memory G   on webgpu, refuse before training a configuration whose iteration holds more than
                   G GiB of GPU buffers (counted without running: the backend's accounting mode); a
                   buffer larger than the adapter binds is refused either way`;

export interface TrainRun {
  config: TrainConfig;
  backend: string;
  result: TrainResult;
  outDir: string;
}

/** The parsed flags' work, reusable by the demo: returns what ran and where it wrote. */
export async function runTraining(config: TrainConfig, flags: { backend?: string; threads?: number; out?: string; iterations?: number; resume?: boolean;
                                           skipNonFinite?: boolean; gpuMemory?: number; onEvent?: (e: TrainEvent) => void },
                                  label = config.name): Promise<TrainRun> {
  if (flags.threads !== undefined) await setWasmThreads(flags.threads);
  const backend = await setBackend(flags.backend ?? 'auto');
  const outDir = flags.out ?? join('runs', config.name);
  const total = flags.iterations ?? config.iterations;
  const progress = createProgress({ total, label });
  progress.log(`${label}: method ${config.method}, backend ${backend}, ${total} iterations, patch ${config.patch.join('×')}, ` +
               `${config.model.nFilters} filters → ${outDir}`);
  let trainingPeak = 0;
  const onEvent = (e: TrainEvent) => {
    if (e.kind === 'info') progress.log(e.message);
    else if (e.kind === 'iteration') {
      trainingPeak = Math.max(trainingPeak, e.record.peakBytes);
      progress.update(e.record.iteration + 1, progressFields(e.record));
    } else if (e.kind === 'validation') {
      progress.log(`iteration ${e.record.iteration}: validation Dice ${e.record.dice.toFixed(4)} on ${e.record.cases} case(s), ` +
                   `peak memory ${formatGiB(e.record.peakBytes)}`);
    }
    flags.onEvent?.(e);
  };
  const result = await train(config, { outDir, iterations: flags.iterations, resume: flags.resume, skipNonFinite: flags.skipNonFinite,
                                        gpuMemory: flags.gpuMemory, onEvent });
  const skipped = writeCurves(result.log, join(outDir, 'curves.svg'), `${config.name} (${config.method})`);
  progress.done(`${label}: ${result.iterations} iterations in ${result.seconds.toFixed(0)} s` +
                (trainingPeak ? `, peak memory of an iteration ${formatGiB(trainingPeak)}` : '') +
                (skipped ? `; ${skipped} iteration(s) skipped for a non-finite loss` : ''));
  return { config, backend, result, outDir };
}

function progressFields(r: IterationLog): Record<string, number | string> {
  const f: Record<string, number | string> = { loss: r.loss, ...r.terms, lr: r.lr };
  if (r.lambda !== undefined) f['λ'] = r.lambda;
  if (r.maskFraction !== undefined) f.mask = `${(100 * r.maskFraction).toFixed(0)}%`;
  return f;
}

/** Draws the log's curves (skipped iterations have no loss to draw); returns how many iterations the log says were skipped. */
function writeCurves(logPath: string, svgPath: string, title: string): number {
  const iterations: IterationLog[] = [], validation: ValidationLog[] = [];
  let skipped = 0;
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line) continue;
    const { kind, ...r } = JSON.parse(line);
    if (kind === 'iteration' && r.skipped) skipped++;
    else if (kind === 'iteration') iterations.push(r);
    else if (kind === 'validation') validation.push(r);
  }
  writeFileSync(svgPath, trainingCurvesSvg({ iterations, validation }, { title }));
  return skipped;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${text}: expected a positive integer`);
  return n;
}

/** "2.5" (GiB) → bytes. */
function gibibytes(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const g = Number(text);
  if (!(g > 0)) throw new Error(`${flag} ${text}: expected a positive number of GiB`);
  return g * 1024 ** 3;
}

async function trainFromFlags(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    config: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' },
    iterations: { type: 'string' }, resume: { type: 'boolean', default: false }, 'skip-nonfinite': { type: 'boolean', default: false },
    'gpu-memory': { type: 'string' },
  } });
  if (!values.config) throw new UsageError('--config is required');
  const config = loadConfig(values.config);
  const run = await runTraining(config, {
    backend: values.backend, threads: positiveInt(values.threads, '--threads'), out: values.out,
    iterations: positiveInt(values.iterations, '--iterations'), resume: values.resume, skipNonFinite: values['skip-nonfinite'],
    gpuMemory: gibibytes(values['gpu-memory'], '--gpu-memory'),
  });
  const v = run.result.lastValidation;
  console.log(`${run.outDir}: model.safetensors, checkpoint.safetensors, log.jsonl, curves.svg` +
              (v ? `; last validation Dice ${v.dice.toFixed(4)} (iteration ${v.iteration})` : ''));
}

export const trainCommand: Command = { name: 'train', summary: 'train a V-Net with UG-MCL or a baseline from a JSON config', usage, run: trainFromFlags };
