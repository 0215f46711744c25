// voxgrad experiments: every planned run without a results file, one at a time, each resumed from
// its unfinished checkpoint if a session ended inside it; then the report from the results files.
// Each run is a process of its own (this command with --run NAME): a run starts from a fresh wasm
// heap whatever the one before it left, and records the commit checked out when it started. It
// commits nothing: the session that runs it commits what it wrote.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { join } from 'node:path';
import { loadPlan, unfinishedDir } from '../runner/plan.ts';
import { writeReport } from '../runner/report.ts';
import { resultsPath, runExperiment } from '../runner/run.ts';

const usage = `usage: voxgrad experiments [--plan FILE] [--only NAME] [--list | --report]
  FILE: the plan (default experiments/plan.json): configs, seeds, backend, threads, comparisons.
  Runs each planned run that has no results/NAME.json beside the plan, in plan order, resuming one
  that has an unfinished/NAME/checkpoint.safetensors; writes results/NAME.json and logs/NAME.jsonl,
  then the plan's report (docs/RESULTS.md and its pictures) from all results files.
  --only NAME   just the runs whose name (config-sSEED) or config name is NAME
  --list        print each run and whether it is done, unfinished or pending; run nothing
  --report      only write the report from the results files
  --run NAME    do one run in this process (what the runner starts for each run)`;

async function experiments(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    plan: { type: 'string', default: 'experiments/plan.json' }, only: { type: 'string' }, list: { type: 'boolean', default: false },
    report: { type: 'boolean', default: false }, run: { type: 'string' },
  } });
  const plan = loadPlan(values.plan);
  if (values.report) {
    console.log(`wrote ${writeReport(plan)}`);
    return;
  }
  if (values.run) {
    const r = plan.runs.find((p) => p.name === values.run);
    if (!r) throw new Error(`${values.plan}: no planned run is named "${values.run}"`);
    process.on('disconnect', () => process.exit(1));
    process.channel?.unref(); // the channel alone must not keep the finished run alive
    const res = await runExperiment(plan, r);
    console.log(`${r.name}: validation Dice ${res.validation.mean.dice.toFixed(4)} on ${res.validation.perCase.length} case(s), ` +
                `${(res.trainSeconds / 60).toFixed(1)} min training → ${resultsPath(plan, r)}`);
    return;
  }
  const runs = plan.runs.filter((r) => !values.only || r.name === values.only || r.group === values.only);
  if (!runs.length) throw new Error(`${values.plan}: no planned run is named "${values.only}" (runs: ${plan.runs.map((r) => r.name).join(', ')})`);
  const pending = runs.filter((r) => !existsSync(resultsPath(plan, r)));
  if (values.list) {
    const state = (r: (typeof runs)[number]) => !pending.includes(r) ? 'done'
      : existsSync(join(unfinishedDir(plan, r), 'checkpoint.safetensors')) ? 'unfinished' : 'pending';
    for (const r of runs) console.log(`${r.name.padEnd(32)} ${state(r)}`);
    return;
  }
  console.log(`${values.plan}: ${pending.length} of ${runs.length} run(s) to do on ${plan.backend}, ${plan.threads} thread(s)`);
  for (const [i, r] of pending.entries()) {
    console.log(`\n[${i + 1}/${pending.length}] ${r.name}`);
    // The IPC channel closes when this process dies, and the run then stops too (see --run).
    const child = spawn(process.execPath, [process.argv[1], 'experiments', '--plan', values.plan, '--run', r.name],
                        { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    const code = await new Promise<number | string>((done) => child.on('exit', (c, signal) => done(c ?? signal ?? 'unknown')));
    if (code !== 0) throw new Error(`${r.name} failed (exit ${code}); its unfinished checkpoint, if any, is kept`);
  }
  console.log(`wrote ${writeReport(plan)}`);
}

export const experimentsCommand: Command = {
  name: 'experiments', summary: 'the planned experiment runs (experiments/plan.json) that have no results yet, then the report', usage, run: experiments,
};
