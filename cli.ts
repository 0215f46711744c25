#!/usr/bin/env node
// voxgrad command line: one subcommand per file under cli/.
import { demo } from './cli/demo.ts';
import { metrics, metricsUsage } from './cli/metrics.ts';
import { predict, predictUsage } from './cli/predict.ts';
import { evaluate, evaluateUsage } from './cli/evaluate.ts';
import { experiments, experimentsUsage } from './cli/experiments.ts';
import { serve, serveUsage } from './cli/serve.ts';
import { trainCommand, trainUsage } from './cli/train.ts';

const usage = `usage: voxgrad <command> [options]
  train      train a V-Net with UG-MCL or a baseline from a JSON config
  demo       the main job: UG-MCL and a supervised baseline trained on the bundled hippocampus cases, then scored
  experiments  the planned experiment runs (experiments/plan.json) that have no results yet
  metrics    Dice, Jaccard, 95HD, ASD and ASSD of a predicted mask against a label, as medpy computes them
  predict    segment volumes with a checkpoint (sliding window) and write NIfTI masks
  evaluate   segment a dataset's cases and score them against their labels
  serve      the browser app on this machine: segment and view scans in the page

${metricsUsage}

${predictUsage}

${evaluateUsage}

${trainUsage}

${experimentsUsage}

${serveUsage}`;

const commands: Record<string, (argv: string[]) => Promise<void>> = { train: trainCommand, experiments, demo, metrics, predict, evaluate, serve };
const [name, ...argv] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  console.error(name ? `voxgrad: unknown command "${name}"\n${usage}` : usage);
  process.exit(name ? 2 : 0);
}
try {
  await command(argv);
} catch (e) {
  console.error(`voxgrad ${name}: ${(e as Error).message}`);
  process.exit(1);
}
