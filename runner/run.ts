// One planned run from start (or from its unfinished checkpoint) to its results file: train in
// experiments/unfinished/NAME, score the final student on the config's validation list exactly as
// `voxgrad evaluate` does with the checkpoint's own window and resolution (scores at the scans' own
// resolution), then write results/NAME.json, keep the
// JSONL log in logs/, ship the model if the plan says so, and delete the unfinished folder.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { scoreCases, type Scores } from '../infer/score-cases.ts';
import { binarize } from '../train/loop/batches.ts';
import { openConfigDataset } from '../train/loop/config-data.ts';
import { configJson } from '../train/loop/config-file.ts';
import type { TrainConfig } from '../train/loop/config.ts';
import { loadModel } from '../cli/model.ts';
import { runTraining } from '../cli/train.ts';
import { logsDir, resultsDir, unfinishedDir, type Plan, type PlannedRun } from './plan.ts';

export interface RunResults {
  name: string;
  group: string;
  method: TrainConfig['method'];
  seed: number;
  configFile: string;
  config: Omit<TrainConfig, 'file'>;
  /** The commit checked out when the runner that did the run (or its last resumed segment) started, and
   *  whether tracked files outside the experiment outputs differed from it then. */
  commit: string | null;
  dirty: boolean;
  backend: string;
  threads: number;
  machine: { cpu: string; cores: number; node: string };
  finished: string;
  iterations: number;
  /** Training wall time summed over sessions (each segment up to its last checkpoint), and the scoring's. */
  trainSeconds: number;
  evaluateSeconds: number;
  /** Scored at the scans' own resolution; the model ran at 1/downsample of it. */
  validation: { list: string; patch: number[]; stride: number[]; downsample: number } & Scores;
  curve: { iteration: number; dice: number }[];
  log: string;
  model?: string;
}

export const resultsPath = (plan: Plan, run: PlannedRun) => join(resultsDir(plan), `${run.name}.json`);

/** Read when the run's process starts: the code that runs is what was checked out then. */
function gitState(plan: Plan): { commit: string | null; dirty: boolean } {
  const outputs = [plan.dir, plan.report, ...plan.runs.flatMap((r) => (r.ship ? [dirname(r.ship)] : []))];
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: plan.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const top = git('rev-parse', '--show-toplevel').trim();
    const ours = outputs.map((p) => relative(top, p));
    const changed = git('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean).map((l) => l.slice(3))
      .filter((p) => !ours.some((o) => p === o || p.startsWith(`${o}/`)));
    return { commit: git('rev-parse', 'HEAD').trim(), dirty: changed.length > 0 };
  } catch {
    return { commit: null, dirty: true };
  }
}

export async function runExperiment(plan: Plan, run: PlannedRun): Promise<RunResults> {
  const git = gitState(plan);
  const work = unfinishedDir(plan, run);
  const elapsedFile = join(work, 'elapsed.json');
  const resume = existsSync(join(work, 'checkpoint.safetensors'));
  const prior = resume && existsSync(elapsedFile) ? (JSON.parse(readFileSync(elapsedFile, 'utf8')).seconds as number) : 0;
  const began = performance.now();
  const trained = await runTraining(run.config, {
    backend: plan.backend, threads: plan.threads, out: work, resume,
    onEvent: (e) => {
      if (e.kind === 'checkpoint') {
        writeFileSync(elapsedFile, `${JSON.stringify({ iteration: e.iteration, seconds: prior + (performance.now() - began) / 1000 })}\n`);
      }
    },
  }, run.name);
  const trainSeconds = prior + (performance.now() - began) / 1000;

  const scoring = performance.now();
  const c = run.config;
  const d = c.data;
  if (!d.validation) throw new Error(`${run.configFile}: "data.validation" is required for an experiment (the cases its results score)`);
  const { net, backend } = await loadModel(trained.result.model, plan.backend);
  const ds = await openConfigDataset(d, d.validation);
  const downsample = d.downsample ?? 1;
  const scores = await scoreCases(net, ds.ids, async (id) => {
    const k = await ds.read(id);
    return { id, image: k.image, label: binarize(k.label.data, d.foreground) };
  }, { patch: c.patch, stride: c.validation.stride, batch: 2, normalization: ds.normalization, downsample });
  net.dispose();
  const evaluateSeconds = (performance.now() - scoring) / 1000;

  const curve: RunResults['curve'] = [];
  for (const line of readFileSync(trained.result.log, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.kind === 'validation') curve.push({ iteration: r.iteration, dice: r.dice });
  }
  mkdirSync(logsDir(plan), { recursive: true });
  const log = join(logsDir(plan), `${run.name}.jsonl`);
  copyFileSync(trained.result.log, log);
  if (run.ship) {
    mkdirSync(dirname(run.ship), { recursive: true });
    copyFileSync(trained.result.model, run.ship);
    writeFileSync(run.ship.replace(/\.safetensors$/, '.config.json'), `${JSON.stringify(configJson(c, dirname(run.ship)), null, 2)}\n`);
  }
  const out = resultsPath(plan, run);
  const { file: _file, ...rest } = c;
  const within = (p: string | undefined) => p && relative(plan.dir, p);
  const config = { ...rest, data: { ...d, root: within(d.root)!, train: within(d.train)!, validation: within(d.validation) } };
  const results: RunResults = {
    name: run.name, group: run.group, method: c.method, seed: run.seed,
    configFile: relative(plan.dir, run.configFile), config,
    ...git,
    backend, threads: plan.threads,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    finished: new Date().toISOString(), iterations: trained.result.iterations,
    trainSeconds, evaluateSeconds,
    validation: { list: relative(plan.dir, d.validation), patch: c.patch, stride: c.validation.stride, downsample, ...scores },
    curve, log: relative(plan.dir, log),
    model: run.ship ? relative(plan.dir, run.ship) : undefined,
  };
  mkdirSync(resultsDir(plan), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 1)}\n`);
  rmSync(work, { recursive: true, force: true });
  return results;
}
