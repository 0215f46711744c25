// The experiment plan (experiments/plan.json): which configs run with which seeds, on which backend
// and thread count, which pairs the report compares, and which seed-0 models ship. Paths in the plan
// are relative to its folder; results, logs and unfinished runs live beside it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../train/loop/config-file.ts';
import type { TrainConfig } from '../train/loop/config.ts';
import { ConfigError, Fields } from '../train/loop/config-fields.ts';
import type { CrossCheck } from './report-settings.ts';

export interface PlannedRun {
  /** <config name>-s<seed>: the results file's and the log's name. */
  name: string;
  group: string;
  seed: number;
  configFile: string;
  config: TrainConfig;
  /** Where the finished model is copied (seed 0 of an entry with "ship"). */
  ship?: string;
}

export interface Plan {
  file: string;
  dir: string;
  backend: string;
  threads: number;
  runs: PlannedRun[];
  /** [semi-supervised group, supervised group] pairs for paired per-case comparisons. */
  compare: [string, string][];
  /** Label-rate lines: each the groups of one method at increasing labelled counts; the first line is
   *  the baseline the others are paired with at each count. */
  labelRates: string[][];
  /** Variants of a reference group, each compared case by case with it. */
  ablations?: { reference: string; groups: string[] };
  /** Runs trained again by a second implementation, scored by `voxgrad evaluate` into FOLDER/evaluation.json. */
  crossChecks?: CrossCheck[];
  /** The report, and the paper's table it quotes beside ours. */
  report: string;
  paper: string;
}

export const resultsDir = (plan: Plan) => join(plan.dir, 'results');
export const logsDir = (plan: Plan) => join(plan.dir, 'logs');
export const unfinishedDir = (plan: Plan, run: PlannedRun) => join(plan.dir, 'unfinished', run.name);

export function loadPlan(path: string): Plan {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the plan (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${path}: must hold a JSON object`);
  const f = new Fields(path, json as Record<string, unknown>);
  f.only(['comment', 'backend', 'threads', 'runs', 'compare', 'labelRates', 'ablations', 'crossChecks', 'report', 'paper']);
  const dir = dirname(resolve(path));
  const runs: PlannedRun[] = [];
  const list = (json as Record<string, unknown>).runs;
  if (!Array.isArray(list) || !list.length) f.fail('runs', 'must be a non-empty array of {config, seeds, ship?}');
  for (const [i, entry] of (list as unknown[]).entries()) {
    const r = new Fields(path, entry as Record<string, unknown>, `runs[${i}].`);
    r.only(['config', 'seeds', 'ship', 'comment']);
    const configFile = join(dir, r.string('config'));
    const base = loadConfig(configFile);
    const seeds = (entry as { seeds?: unknown }).seeds;
    if (!Array.isArray(seeds) || !seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
      r.fail('seeds', `must be a non-empty array of non-negative integers, got ${JSON.stringify(seeds)}`);
    }
    const ship = r.optionalString('ship');
    for (const seed of seeds as number[]) {
      const name = `${base.name}-s${seed}`;
      if (runs.some((p) => p.name === name)) r.fail('seeds', `repeats the run ${name}`);
      runs.push({ name, group: base.name, seed, configFile, config: { ...base, seed },
                  ship: ship && seed === 0 ? join(dir, ship) : undefined });
    }
  }
  const groups = new Set(runs.map((r) => r.group));
  const compare = ((json as { compare?: unknown }).compare ?? []) as [string, string][];
  if (!Array.isArray(compare) || compare.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((g) => !groups.has(g)))) {
    f.fail('compare', `must be pairs of planned config names (${[...groups].join(', ')})`);
  }
  const known = (g: unknown) => typeof g === 'string' && groups.has(g);
  const labelRates = ((json as { labelRates?: unknown }).labelRates ?? []) as string[][];
  if (!Array.isArray(labelRates) || labelRates.some((l) => !Array.isArray(l) || !l.length || !l.every(known))) {
    f.fail('labelRates', `must be lines (arrays) of planned config names (${[...groups].join(', ')})`);
  }
  const ablations = (json as { ablations?: { reference?: unknown; groups?: unknown } }).ablations;
  if (ablations !== undefined) {
    const a = f.section('ablations');
    a.only(['comment', 'reference', 'groups']);
    if (!known(ablations.reference)) a.fail('reference', `must be a planned config name (${[...groups].join(', ')})`);
    if (!Array.isArray(ablations.groups) || !ablations.groups.length || !ablations.groups.every(known)) {
      a.fail('groups', 'must be a non-empty array of planned config names');
    }
  }
  const crossChecks = (json as { crossChecks?: unknown }).crossChecks;
  if (crossChecks !== undefined && (!Array.isArray(crossChecks) || crossChecks.some((x, i) => {
    const c = new Fields(path, x as Record<string, unknown>, `crossChecks[${i}].`);
    c.only(['comment', 'run', 'folder', 'label']);
    if (!runs.some((r) => r.name === c.string('run'))) c.fail('run', 'must name a planned run');
    return !c.string('folder') || !c.string('label');
  }))) f.fail('crossChecks', 'must be an array of {run, folder, label}');
  const paper = join(dir, f.string('paper'));
  if (!existsSync(paper)) f.fail('paper', `names ${paper}, which does not exist (the paper's table the report quotes)`);
  return {
    file: path, dir, runs, compare, labelRates, paper, crossChecks: crossChecks as CrossCheck[] | undefined,
    ablations: ablations as Plan['ablations'],
    backend: f.string('backend', 'wasm'),
    threads: f.number('threads', 2, { int: true, min: 1 }),
    report: join(dir, f.string('report')),
  };
}
