// voxgrad experiments: every planned run without a results file, one at a time, each resumed from
// its unfinished checkpoint if a session ended inside it; then the report from the results files.
// It commits nothing: the session that runs it commits what it wrote.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadPlan, unfinishedDir } from '../experiments/plan.ts';
import { writeReport } from '../experiments/report.ts';
import { gitState, resultsPath, runExperiment } from '../experiments/run.ts';

export const experimentsUsage = `usage: voxgrad experiments [--plan FILE] [--only NAME] [--list | --report]
  FILE: the plan (default experiments/plan.json): configs, seeds, backend, threads, comparisons.
  Runs each planned run that has no results/NAME.json beside the plan, in plan order, resuming one
  that has an unfinished/NAME/checkpoint.safetensors; writes results/NAME.json and logs/NAME.jsonl,
  then the plan's report (docs/RESULTS.md and its pictures) from all results files.
  --only NAME   just the runs whose name (config-sSEED) or config name is NAME
  --list        print each run and whether it is done, unfinished or pending; run nothing
  --report      only write the report from the results files`;

export async function experiments(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    plan: { type: 'string', default: 'experiments/plan.json' }, only: { type: 'string' }, list: { type: 'boolean', default: false },
    report: { type: 'boolean', default: false },
  } });
  const plan = loadPlan(values.plan);
  if (values.report) {
    console.log(`wrote ${writeReport(plan)}`);
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
  const git = gitState(plan);
  for (const [i, r] of pending.entries()) {
    console.log(`\n[${i + 1}/${pending.length}] ${r.name}`);
    const res = await runExperiment(plan, r, git);
    console.log(`${r.name}: validation Dice ${res.validation.mean.dice.toFixed(4)} on ${res.validation.perCase.length} case(s), ` +
                `${(res.trainSeconds / 60).toFixed(1)} min training → ${resultsPath(plan, r)}`);
  }
  console.log(`wrote ${writeReport(plan)}`);
}
