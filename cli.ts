#!/usr/bin/env node
// voxgrad command line: one subcommand per file under train/cli/.
import { demo } from './train/cli/demo.ts';
import { metrics, metricsUsage } from './train/cli/metrics.ts';

const usage = `usage: voxgrad <command> [options]
  demo       summarise the bundled hippocampus cases, score a label-only baseline, fit a tiny net to a synthetic sphere
  metrics    Dice, Jaccard, 95HD, ASD and ASSD of a predicted mask against a label, as medpy computes them

${metricsUsage}`;

const commands: Record<string, (argv: string[]) => Promise<void>> = { demo, metrics };
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
